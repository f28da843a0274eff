#pragma once
// Shared plumbing of the `subset` subcommands: global options and how a subcommand is registered.
#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/meter.h"
#include "libsubset/core/train_settings.h"
#include "tools/param_options.h"

namespace subset::cli {

struct GlobalOptions {
  int threads = 0;  // 0: all cores
  bool quiet = false;
  bool verbose = false;  // -v: phases, timings, every reported figure and the files written, on stdout
  // Energy accounting, as given (validated by resolve_meter_options before any command runs).
  CLI::Option* pue = nullptr;
  CLI::Option* region = nullptr;
  CLI::Option* carbon_intensity = nullptr;
  CLI::Option* cpu_watts = nullptr;
  double pue_value = 0, carbon_intensity_value = 0, cpu_watts_value = 0;
  std::string region_value;
  energy::MeterOptions meter;  // resolved
};

// Adds --pue, --region, --carbon-intensity and --cpu-watts to the top-level app; subcommands
// accept them after their own name too (fallthrough).
void add_energy_options(CLI::App& app, GlobalOptions& global);
// Turns the given energy options into MeterOptions; throws subset::Error on a bad value.
energy::MeterOptions resolve_meter_options(const GlobalOptions& global);
// Starts a meter now; the returned function stops it and returns the report as JSON text, for
// io::WriteOptions::energy_report.
std::function<std::string()> start_energy_recording(const GlobalOptions& global);

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
Command add_energy_command(CLI::App& parent, const GlobalOptions& global);
Command add_evaluate_command(CLI::App& parent, const GlobalOptions& global);
Command add_bench_command(CLI::App& parent, const GlobalOptions& global);
Command add_compress_command(CLI::App& parent, const GlobalOptions& global);
Command add_condense_command(CLI::App& parent, const GlobalOptions& global);
Command add_embed_command(CLI::App& parent, const GlobalOptions& global);
Command add_al_command(CLI::App& parent, const GlobalOptions& global);
Command add_hpo_command(CLI::App& parent, const GlobalOptions& global);

// Names the value of every option typed as plain text after the option, as argparse does
// ("--output OUTPUT", "store STORE"), so that --help never says TEXT; options with a type of their
// own (numbers, choices, method parameters) keep it.
void name_free_text_values(CLI::App& app);

// Adds --json to a subcommand.
CLI::Option* add_json_flag(CLI::App& app, bool& json);

// Adds --memory-limit SIZE (512M, 4G, ...; text, parsed by memory_limit_of so that a bad size
// gets libsubset's one-line error); memory_limit_of("") is unset. `what`: what the command does
// under it, for --help.
CLI::Option* add_memory_limit_option(CLI::App& app, std::string& size, const std::string& what);
std::optional<double> memory_limit_of(const std::string& size);

// Accepts a whole non-negative integer; the message names the value (CLI11's NonNegativeNumber
// prints the range up to DBL_MAX in full, 300 digits, and calls "abc" out of range).
CLI::Validator non_negative_integer();
// A whole number in [0, 2^64): CLI11's own conversion to uint64_t wraps "-1" to 2^64 - 1 and clamps
// larger numbers to it, silently recording a seed the user did not give.
CLI::Validator seed_value();
// Status lines for long workflows, under the one progress rule (libsubset/core/progress.h): a live
// line on a terminal, a line every few seconds at most in a log, nothing with --quiet.
std::function<void(const std::string&)> status_lines(const GlobalOptions& global);

// The proxy-model options shared by evaluate and bench: every parameter of train_schema() (model,
// hidden, epochs, lr, ...), those of the job's own schema (repeats), and --seed. Unset epochs and
// lr stay unset, so that the library applies the model's own defaults.
// --embedding EMB.h5 and --embed MODEL[:NAME=VALUE...] of select and bench (at most one of them).
struct EmbeddingOptions {
  std::shared_ptr<std::string> embedding = std::make_shared<std::string>();
  std::shared_ptr<std::string> embed = std::make_shared<std::string>();
  // The store to select on, nullopt for STORE itself. --embed computes or reuses the cached
  // embedding (workflows/embed_cache.h), loading the nn library, and with `announce` says on stdout
  // which, "(cached)" when reused.
  std::optional<std::string> resolve(const CLI::App& app, const std::string& store, const GlobalOptions& global,
                                     bool announce) const;
};
EmbeddingOptions add_embedding_options(CLI::App& app, const std::string& embedding_help);

struct TrainingOptions {
  std::shared_ptr<ParamOptions> model, job;
  // Sets the given model parameters on `settings`; throws ParamError for one that does not apply
  // to the chosen model.
  void apply(TrainSettings& settings) const;
};
TrainingOptions add_training_options(CLI::App& app, TrainSettings& settings, const ParamSchema& job_schema);

}  // namespace subset::cli
