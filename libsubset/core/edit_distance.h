#pragma once
// "Did you mean ...?": the known name nearest to a mistyped one, by edit distance.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace subset {

// Levenshtein distance: the fewest single-character insertions, deletions and substitutions that
// turn `a` into `b` (bytes, case-sensitive).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `name` when it is close enough to be the intended one: at distance
// <= max(2, |name| / 3), and not `name` itself. Ties go to the first candidate. nullopt otherwise.
std::optional<std::string> nearest_name(std::string_view name, const std::vector<std::string>& candidates);

// "; did you mean 'kcenter'?" when nearest_name() finds one, else "" (to append to an error).
std::string did_you_mean(std::string_view name, const std::vector<std::string>& candidates);

}  // namespace subset
