#pragma once
// Looking an entry up by name in one of the explicit registries (selection methods, transforms),
// with the error a user should see for a typo: every known name.
#include <string>
#include <string_view>
#include <vector>

#include "libsubset/core/params.h"

namespace subset {

// `Entry` has a `name` member. Throws ParamError(parameter, "unknown method 'x'; known: a, b, c").
template <class Entry>
const Entry& find_by_name(const std::vector<Entry>& entries, std::string_view name, const std::string& parameter) {
  for (const auto& e : entries)
    if (e.name == name) return e;
  std::string known;
  for (const auto& e : entries) known += (known.empty() ? "" : ", ") + e.name;
  throw ParamError(parameter, "unknown method '" + std::string(name) + "'; known: " + known);
}

}  // namespace subset
