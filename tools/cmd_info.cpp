// `subset info FILE`: what a file the tool wrote is and holds (a store, an embedding store, a
// selection, a model, a condensation checkpoint), told and described by io::describe_file.
#include <iostream>
#include <optional>

#include "libsubset/workflows/store_passes.h"
#include "tools/cli.h"
#include "tools/store_report.h"

namespace subset::cli {

Command add_info_command(CLI::App& parent, const GlobalOptions&) {
  struct Options {
    std::string file;
    io::DescribeOptions describe;
    bool json = false;
  };
  auto opts = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "info",
      "Describe a file subset wrote: a feature store (validates structure, shapes, dtypes and labels; features are not "
      "read), an embedding store, a selection, a model or a condensation checkpoint");
  app->add_option("file", opts->file, "Store, selection, model or checkpoint (.h5)")->required();
  app->add_option("--store", opts->describe.store,
                  "Selection or embedding store: say whether it belongs to this store (the test extract and evaluate "
                  "apply)");
  add_json_flag(*app, opts->json);
  app->add_flag("--check-values", opts->describe.check_values,
                "Also read every stored value (a store's features, both splits) and fail on the first NaN or Inf; "
                "ends with what was checked");
  return {app, [opts]() {
            const std::optional<io::FileDescription> description =
                workflows::describe_on_ranks(opts->file, opts->describe);
            if (!description) return 0;  // a rank other than 0 under mpirun: rank 0 reports
            if (opts->json) std::cout << description->json.dump(2) << "\n";
            else print_file_report(*description, std::cout);
            return 0;
          }};
}

}  // namespace subset::cli
