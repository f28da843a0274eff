// `subset info STORE`: what a store holds, from its metadata and labels only.
#include <iostream>

#include "libsubset/io/store.h"
#include "tools/cli.h"
#include "tools/store_report.h"

namespace subset::cli {

Command add_info_command(CLI::App& parent, const GlobalOptions&) {
  struct Options {
    std::string store;
    bool json = false;
    bool check_values = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "info", "Describe a feature store (validates structure, shapes, dtypes and labels; features are not read)");
  app->add_option("store", opts->store, "HDF5 feature store")->required();
  add_json_flag(*app, opts->json);
  app->add_flag("--check-values", opts->check_values,
                "Also stream every feature row and fail on the first NaN or Inf (reads the whole store)");
  return {app, [opts]() {
            const io::FeatureStore store = io::FeatureStore::open(opts->store);
            if (opts->check_values) {
              store.check_finite(io::Split::Train);
              if (store.info().has_test) store.check_finite(io::Split::Test);
            }
            if (opts->json) std::cout << store.info().to_json().dump(2) << "\n";
            else print_store_report(store.info(), std::cout);
            return 0;
          }};
}

}  // namespace subset::cli
