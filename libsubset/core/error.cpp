#include "libsubset/core/error.h"

namespace subset {
namespace {

std::string compose(const std::string& what, const std::string& where) {
  return where.empty() ? what : what + " (" + where + ")";
}

}  // namespace

std::string fold_into_one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

Error::Error(std::string what, std::string where)
    : std::runtime_error(compose(what, where)), what_(std::move(what)), where_(std::move(where)) {}

std::string format_error_line(const Error& e) {
  // One line, always: multi-line messages from libraries are folded.
  return fold_into_one_line("error: " + std::string(e.what()));
}

std::string format_unexpected_error_line(const std::exception& e, bool full) {
  std::string what = e.what();
  if (!full) {
    const auto end = what.find('\n');
    if (end != std::string::npos) what.resize(end);
  }
  return fold_into_one_line("error: internal error: " + what);
}

}  // namespace subset
