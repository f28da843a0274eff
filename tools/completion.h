#pragma once
// The bash completion script of `subset`, generated from the command tree itself, so that every
// command, option and method name the binary knows completes, and nothing it does not.
#include <CLI/CLI.hpp>
#include <string>

namespace subset::cli {

// A self-contained bash script (needs only bash's `complete` and `compgen`, not the
// bash-completion package) that registers completion for `subset`.
std::string bash_completion_script(const CLI::App& app);

}  // namespace subset::cli
