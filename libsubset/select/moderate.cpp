#include "libsubset/select/moderate.h"

#include <algorithm>
#include <cmath>

#include "libsubset/select/allocation.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/sampling.h"

namespace subset::select {

ParamSchema ModerateSelector::params() {
  ParamSchema s("moderate");
  s.add_choice("allocation", "stratified",
               "split of the budget over the classes: in proportion to their sizes, or equal shares",
               {"stratified", "balanced"});
  return s;
}

ModerateSelector::ModerateSelector(const ParamMap& p) : balanced_(p.get_string("allocation") == "balanced") {}

Selection ModerateSelector::select(const SelectionRequest& request, const RunContext&) const {
  const int64_t n = request.n, d = request.dim;
  SUBSET_CHECK(request.has_features() && d >= 1, "moderate", "method needs features");
  check_classes(request);
  geometry::check_values(request.features, n, d, 1e18, "moderate");
  const auto& labels = *request.labels;
  auto classes = static_cast<size_t>(request.num_classes);
  for (int64_t l : labels) classes = std::max(classes, static_cast<size_t>(l) + 1);

  std::vector<std::vector<int64_t>> members(classes);
  for (int64_t i = 0; i < n; ++i) members[static_cast<size_t>(labels[static_cast<size_t>(i)])].push_back(i);
  std::vector<char> open(static_cast<size_t>(n), 1);
  for (int64_t a : request.already_selected) open[static_cast<size_t>(a)] = 0;
  std::vector<int64_t> available = available_per_class(labels, request.already_selected);
  available.resize(classes, 0);
  const std::vector<int64_t> take =
      balanced_ ? balanced_allocation(available, request.budget) : stratified_allocation(available, request.budget);

  std::vector<double> score(static_cast<size_t>(n), 0.0);
  std::vector<std::vector<int64_t>> picks(classes);
  for (size_t c = 0; c < classes; ++c) {
    const auto& m = members[c];
    if (take[c] == 0) continue;
    std::vector<double> centre(static_cast<size_t>(d), 0.0);
    for (int64_t i : m)
      for (int64_t j = 0; j < d; ++j) centre[static_cast<size_t>(j)] += request.features[i * d + j];
    std::vector<float> centre_f(static_cast<size_t>(d));
    for (int64_t j = 0; j < d; ++j)
      centre_f[static_cast<size_t>(j)] = static_cast<float>(centre[static_cast<size_t>(j)] / static_cast<double>(m.size()));
    std::vector<double> dist;
    for (int64_t i : m) dist.push_back(std::sqrt(geometry::sq_dist(request.features + i * d, centre_f.data(), d)));
    std::vector<double> sorted = dist;
    std::sort(sorted.begin(), sorted.end());
    const size_t h = sorted.size() / 2;
    const double median = sorted.size() % 2 ? sorted[h] : 0.5 * (sorted[h - 1] + sorted[h]);
    std::vector<int64_t> candidates;
    for (size_t j = 0; j < m.size(); ++j) {
      score[static_cast<size_t>(m[j])] = std::abs(dist[j] - median);
      if (open[static_cast<size_t>(m[j])]) candidates.push_back(m[j]);
    }
    auto by_score = [&](int64_t a, int64_t b) {
      const double sa = score[static_cast<size_t>(a)], sb = score[static_cast<size_t>(b)];
      return sa < sb || (sa == sb && a < b);
    };
    const auto cut = candidates.begin() + take[c];
    std::partial_sort(candidates.begin(), cut, candidates.end(), by_score);
    picks[c].assign(candidates.begin(), cut);
  }
  Selection out;
  out.indices = interleave(picks);
  for (int64_t i : out.indices) out.scores.push_back(static_cast<float>(score[static_cast<size_t>(i)]));
  out.stats["class_budget"] = take;
  return out;
}

}  // namespace subset::select
