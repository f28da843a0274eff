#include "tools/cli.h"

namespace subset::cli {

CLI::Option* add_json_flag(CLI::App& app, bool& json) {
  return app.add_flag("--json", json, "Print one JSON object on stdout instead of a table");
}

}  // namespace subset::cli
