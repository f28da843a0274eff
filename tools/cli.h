#pragma once
// Shared plumbing of the `subset` subcommands: global options and how a subcommand is registered.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace subset::cli {

struct GlobalOptions {
  int threads = 0;  // 0: all cores
  bool quiet = false;
};

// A registered subcommand: its CLI11 node and what runs when it was chosen. run() returns the
// process exit status; errors are thrown as subset::Error and printed by main().
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_import_command(CLI::App& parent, const GlobalOptions& global);
Command add_info_command(CLI::App& parent, const GlobalOptions& global);
Command add_select_command(CLI::App& parent, const GlobalOptions& global);
Command add_extract_command(CLI::App& parent, const GlobalOptions& global);

// Adds --json to a subcommand.
CLI::Option* add_json_flag(CLI::App& app, bool& json);

// Accepts a whole non-negative integer; the message names the value (CLI11's NonNegativeNumber
// prints the range up to DBL_MAX in full, 300 digits, and calls "abc" out of range).
CLI::Validator non_negative_integer();

}  // namespace subset::cli
