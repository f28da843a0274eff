#include "libsubset/core/error.h"

namespace subset {
namespace {
std::string compose(const std::string& what, const std::string& where) {
  return where.empty() ? what : what + " (" + where + ")";
}
}  // namespace

Error::Error(std::string what, std::string where)
    : std::runtime_error(compose(what, where)), what_(std::move(what)), where_(std::move(where)) {}

std::string format_error_line(const Error& e) {
  std::string line = "error: " + std::string(e.what());
  // One line, always: multi-line messages from libraries are folded.
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';
  return line;
}

}  // namespace subset
