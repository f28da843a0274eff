#pragma once
// `subset al query` and `subset al simulate` (the strategies' side of `subset al`).
#include <vector>

#include "tools/cli.h"

namespace subset::cli {

// Adds the query-side subcommands to `al`; tools/cmd_al.cpp runs whichever was chosen.
std::vector<Command> add_al_query_commands(CLI::App& al, const GlobalOptions& global);

}  // namespace subset::cli
