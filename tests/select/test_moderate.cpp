// Tests for libsubset/select/moderate.h: a hand-computed class, and the picks equal a plain
// sort-based oracle (class centre, median distance, |distance - median| ascending, ties by index)
// with either allocation and with already-selected points.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/allocation.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/sampling.h"
#include "support/oracle_distance.h"
#include "support/point_sets.h"

using namespace subset::select;
using subset::ParamMap;

namespace {

Selection run(const SelectionRequest& r, const std::string& allocation = "stratified") {
  const auto& spec = method("moderate");
  validate_request(spec, r);
  return make_selector("moderate", spec.params.resolve({{"allocation", allocation}}))->select(r, RunContext{1, {}});
}

// The oracle: per class, scores by sorting, the allocation helper's split, interleaved.
std::vector<int64_t> oracle(const std::vector<float>& x, int64_t d, const std::vector<int64_t>& labels, int64_t classes,
                            int64_t budget, const std::vector<int64_t>& already, bool balanced) {
  const std::set<int64_t> skip(already.begin(), already.end());
  std::vector<int64_t> available(static_cast<size_t>(classes), 0);
  for (size_t i = 0; i < labels.size(); ++i)
    if (!skip.count(static_cast<int64_t>(i))) ++available[static_cast<size_t>(labels[i])];
  const auto take = balanced ? balanced_allocation(available, budget) : stratified_allocation(available, budget);
  std::vector<std::vector<int64_t>> picks(static_cast<size_t>(classes));
  for (int64_t c = 0; c < classes; ++c) {
    std::vector<int64_t> m;
    for (size_t i = 0; i < labels.size(); ++i)
      if (labels[i] == c) m.push_back(static_cast<int64_t>(i));
    std::vector<double> mean(static_cast<size_t>(d), 0.0);
    for (int64_t i : m)
      for (int64_t j = 0; j < d; ++j) mean[static_cast<size_t>(j)] += x[static_cast<size_t>(i * d + j)];
    std::vector<float> centre;
    for (double v : mean) centre.push_back(static_cast<float>(v / static_cast<double>(m.size())));
    std::vector<double> dist;
    for (int64_t i : m) dist.push_back(std::sqrt(subset::test::oracle_sq_dist(&x[static_cast<size_t>(i * d)], centre.data(), d)));
    std::vector<double> s = dist;
    std::sort(s.begin(), s.end());
    const double median = s.size() % 2 ? s[s.size() / 2] : (s[s.size() / 2 - 1] + s[s.size() / 2]) / 2;
    std::vector<std::pair<double, int64_t>> ranked;
    for (size_t j = 0; j < m.size(); ++j)
      if (!skip.count(m[j])) ranked.emplace_back(std::abs(dist[j] - median), m[j]);
    std::sort(ranked.begin(), ranked.end());
    for (int64_t t = 0; t < take[static_cast<size_t>(c)]; ++t) picks[static_cast<size_t>(c)].push_back(ranked[static_cast<size_t>(t)].second);
  }
  return interleave(picks);
}

}  // namespace

TEST_CASE("moderate: a hand-computed class") {
  // One class at 0, 1, 2, 3, 10: centre 3.2, distances 3.2 2.2 1.2 0.2 6.8, median 2.2.
  const std::vector<float> x = {0, 1, 2, 3, 10};
  const std::vector<int64_t> labels(5, 0);
  SelectionRequest r;
  r.n = 5;
  r.features = x.data();
  r.dim = 1;
  r.labels = &labels;
  r.budget = 3;
  const Selection s = run(r);
  CHECK(s.indices == std::vector<int64_t>{1, 0, 2});  // |d - 2.2| = 0, 1.0, 1.0 (ties by index)
  CHECK(s.scores[0] == doctest::Approx(0.0));
  r.already_selected = {1};
  CHECK(run(r).indices == std::vector<int64_t>{0, 2, 3});
}

TEST_CASE("moderate: equals the sort-based oracle, both allocations, with already-selected points") {
  const auto data = subset::test::clustered(600, 8, 5, 11);
  std::vector<int64_t> labels;
  subset::Rng rng(3);
  for (int64_t i = 0; i < data.n; ++i) labels.push_back(i % 7 == 0 ? 3 : static_cast<int64_t>(rng.uniform_index(3)));
  for (const std::vector<int64_t>& already : {std::vector<int64_t>{}, std::vector<int64_t>{0, 7, 5, 100, 599}}) {
    for (bool balanced : {false, true}) {
      for (int64_t budget : {int64_t{1}, int64_t{37}, int64_t{200}}) {
        SelectionRequest r;
        r.n = data.n;
        r.features = data.x.data();
        r.dim = data.dim;
        r.labels = &labels;
        r.num_classes = 4;
        r.budget = budget;
        r.already_selected = already;
        CAPTURE(budget);
        CHECK(run(r, balanced ? "balanced" : "stratified").indices ==
              oracle(data.x, data.dim, labels, 4, budget, already, balanced));
      }
    }
  }
}

TEST_CASE("moderate: needs labels, refuses an unknown allocation") {
  const auto& spec = method("moderate");
  CHECK_THROWS_AS(spec.params.resolve({{"allocation", "equal"}}), subset::Error);
  const std::vector<float> x = {0, 1};
  SelectionRequest r;
  r.n = 2;
  r.features = x.data();
  r.dim = 1;
  r.budget = 1;
  CHECK_THROWS_AS(validate_request(spec, r), subset::Error);
}
