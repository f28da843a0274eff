#include "tools/cli.h"

#include <string>

namespace subset::cli {

CLI::Option* add_json_flag(CLI::App& app, bool& json) {
  return app.add_flag("--json", json, "Print one JSON object on stdout instead of a table");
}

CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        long long value = -1;
        try {
          value = std::stoll(text, &used);
        } catch (...) {
          used = 0;
        }
        if (used == 0 || used != text.size() || value < 0)
          return "expected a non-negative integer, got '" + text + "'";
        return {};
      },
      "NONNEGATIVE");
}

}  // namespace subset::cli
