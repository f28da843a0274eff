#pragma once
// Looking an entry up by name in one of the explicit registries (selection methods, transforms),
// with the error a user should see for a typo: every known name, and the nearest one when the
// given name is close to it (edit_distance.h).
#include <string>
#include <string_view>
#include <vector>

#include "libsubset/core/edit_distance.h"
#include "libsubset/core/params.h"

namespace subset {

// The error for a name not among `known`: "unknown WHAT 'x'; known: a, b, c", followed by
// "; did you mean 'a'?" when one is near. WHAT is "method", "strategy", ...
inline std::string unknown_name_message(const std::string& what, std::string_view name,
                                        const std::vector<std::string>& known) {
  std::string list;
  for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
  return "unknown " + what + " '" + std::string(name) + "'; known: " + list + did_you_mean(name, known);
}

// `Entry` has a `name` member. Throws ParamError(parameter, "unknown method 'x'; known: a, b, c"),
// with "; did you mean 'a'?" when a known name is near.
template <class Entry>
const Entry& find_by_name(const std::vector<Entry>& entries, std::string_view name, const std::string& parameter) {
  for (const auto& e : entries)
    if (e.name == name) return e;
  std::vector<std::string> known;
  for (const auto& e : entries) known.push_back(e.name);
  throw ParamError(parameter, unknown_name_message("method", name, known));
}

}  // namespace subset
