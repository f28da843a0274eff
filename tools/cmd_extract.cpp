// `subset extract STORE --selection SEL.h5 -o SMALL.h5`: the selected rows as a store of their own.
#include <cstdio>
#include <iostream>

#include "libsubset/workflows/store_passes.h"
#include "tools/cli.h"
#include "tools/store_report.h"

namespace subset::cli {

Command add_extract_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    std::string store, selection, output;
    std::string memory_limit;
    bool force = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "extract", "Write the rows of a selection (features, labels, weights) as a new store with the source's test split");
  app->add_option("store", o->store, "Store the selection was made from")->required();
  app->add_option("-s,--selection", o->selection, "Selection file (from subset select)")->required();
  app->add_option("-o,--output", o->output, "Store to write")->required();
  app->add_flag("--force", o->force, "Overwrite an existing output");
  add_memory_limit_option(*app, o->memory_limit,
                          "selected rows that do not fit go through a temporary file beside the output");
  add_json_flag(*app, o->json);
  return {app, [o, &global]() {
            io::OutputOptions out{o->output, o->force, {}};
            out.write.energy_report = start_energy_recording(global);
            const io::StoreInfo info =
                workflows::extract_on_ranks(o->store, o->selection, out, memory_limit_of(o->memory_limit));
            if (info.path.empty()) return 0;  // a rank other than 0 under mpirun: rank 0 reports
            if (o->json) std::cout << info.to_json().dump(2) << "\n";
            else print_store_report(info, std::cout);
            if (!o->json && global.verbose) {
              // The library measures extraction as one scope (its energy report): reading the
              // selected rows and writing them.
              if (info.energy.is_object() && info.energy.contains("seconds")) {
                char seconds[32];
                std::snprintf(seconds, sizeof seconds, "%.3g", info.energy.value("seconds", 0.0));
                std::cout << "  time        " << seconds << " s reading the " << info.n()
                          << " selected rows of " << o->store << " and writing them\n";
              }
              std::cout << "  wrote       " << o->output << " (rows of " << o->store << " picked by " << o->selection
                        << ")\n";
            }
            return 0;
          }};
}

}  // namespace subset::cli
