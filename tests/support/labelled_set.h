#pragma once
// A small imbalanced labelled set for the selection tests: labels in classes of given sizes,
// shuffled by a fixed seed, plus matching features and request builders.
#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/select/selector.h"

namespace subset::test {

struct LabelledSet {
  std::vector<int64_t> labels;
  std::vector<float> features;  // n x dim, row i = (i, label, i % 7)
  int64_t dim = 3;
  int64_t n() const { return static_cast<int64_t>(labels.size()); }

  // Selection request over the whole set (labels and features), num_classes from the sizes.
  select::SelectionRequest request(int64_t budget, std::vector<int64_t> already = {}) const {
    select::SelectionRequest r;
    r.n = n();
    r.features = features.data();
    r.dim = dim;
    r.labels = &labels;
    r.num_classes = num_classes;
    r.budget = budget;
    r.already_selected = std::move(already);
    return r;
  }
  int64_t num_classes = 0;
};

inline LabelledSet make_labelled_set(const std::vector<int64_t>& sizes, uint64_t seed = 77) {
  LabelledSet s;
  for (size_t c = 0; c < sizes.size(); ++c) s.labels.insert(s.labels.end(), static_cast<size_t>(sizes[c]), static_cast<int64_t>(c));
  Rng rng(seed);
  for (size_t i = s.labels.size(); i > 1; --i) std::swap(s.labels[i - 1], s.labels[rng.uniform_index(i)]);
  for (int64_t i = 0; i < s.n(); ++i) {
    s.features.push_back(static_cast<float>(i));
    s.features.push_back(static_cast<float>(s.labels[static_cast<size_t>(i)]));
    s.features.push_back(static_cast<float>(i % 7));
  }
  s.num_classes = static_cast<int64_t>(sizes.size());
  return s;
}

// Per-class counts of the selected indices.
inline std::vector<int64_t> class_counts(const std::vector<int64_t>& labels, const std::vector<int64_t>& indices,
                                         size_t classes) {
  std::vector<int64_t> counts(classes, 0);
  for (int64_t i : indices) ++counts[static_cast<size_t>(labels[static_cast<size_t>(i)])];
  return counts;
}

// The first `count` indices of class `c` that are not in `skip` (ascending): points to pre-select.
inline std::vector<int64_t> first_of_class(const std::vector<int64_t>& labels, int64_t c, size_t count,
                                           const std::set<int64_t>& skip = {}) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < static_cast<int64_t>(labels.size()) && out.size() < count; ++i)
    if (labels[static_cast<size_t>(i)] == c && !skip.count(i)) out.push_back(i);
  return out;
}

inline bool all_unique_in_range(const std::vector<int64_t>& indices, int64_t n) {
  std::set<int64_t> seen;
  for (int64_t i : indices)
    if (i < 0 || i >= n || !seen.insert(i).second) return false;
  return true;
}

}  // namespace subset::test
