// Tests for libsubset/select/random.h through the registry: exact budget, unique in-range
// indices, already_selected excluded, determinism by seed, and uniform inclusion.
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <set>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/random.h"
#include "libsubset/select/registry.h"
#include "support/labelled_set.h"

using namespace subset::select;
using subset::Error;
using subset::ParamMap;
using subset::test::all_unique_in_range;
using subset::test::make_labelled_set;

namespace {

Selection run_random(const SelectionRequest& r, uint64_t seed) {
  const auto selector = make_selector("random", ParamMap{});
  validate_request(method("random"), r);
  return selector->select(r, RunContext{seed, {}});
}

SelectionRequest unlabelled(int64_t n, int64_t budget, std::vector<int64_t> already = {}) {
  SelectionRequest r;
  r.n = n;
  r.budget = budget;
  r.already_selected = std::move(already);
  return r;
}

}  // namespace

TEST_CASE("random: registered, needs neither features nor labels, takes no parameters") {
  const MethodSpec& spec = method("random");
  CHECK(spec.name == "random");
  CHECK_FALSE(spec.needs_features);
  CHECK_FALSE(spec.needs_labels);
  CHECK(spec.params.specs().empty());
  CHECK(make_selector("random", ParamMap{})->name() == "random");
}

TEST_CASE("random: exact budget of unique in-range indices, nothing else returned") {
  for (int64_t budget : {1, 7, 50, 99, 100}) {
    const Selection s = run_random(unlabelled(100, budget), 3);
    CHECK(static_cast<int64_t>(s.indices.size()) == budget);
    CHECK(all_unique_in_range(s.indices, 100));
    CHECK(s.weights.empty());
    CHECK(s.scores.empty());
  }
}

TEST_CASE("random: ignores labels and works on an imbalanced labelled set") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  const Selection s = run_random(set.request(30), 1);
  CHECK(s.indices.size() == 30);
  CHECK(all_unique_in_range(s.indices, 100));
}

TEST_CASE("random: already_selected points are never returned") {
  std::vector<int64_t> already;
  for (int64_t i = 0; i < 100; i += 3) already.push_back(i);  // 34 points
  std::reverse(already.begin(), already.end());                // any order
  const std::set<int64_t> ex(already.begin(), already.end());
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Selection s = run_random(unlabelled(100, 20, already), seed);
    CHECK(s.indices.size() == 20);
    CHECK(all_unique_in_range(s.indices, 100));
    for (int64_t i : s.indices) CHECK(ex.count(i) == 0);
  }
  // Budget == every remaining point: exactly the complement.
  const Selection all = run_random(unlabelled(100, 66, already), 5);
  std::set<int64_t> got(all.indices.begin(), all.indices.end());
  for (int64_t i = 0; i < 100; ++i) CHECK(got.count(i) == (ex.count(i) ? 0u : 1u));
}

TEST_CASE("random: same seed, same selection; different seeds differ") {
  const auto a = run_random(unlabelled(1000, 50), 42).indices;
  CHECK(a == run_random(unlabelled(1000, 50), 42).indices);
  CHECK(a != run_random(unlabelled(1000, 50), 43).indices);
  const auto dense = run_random(unlabelled(1000, 900, {1, 2, 3}), 42).indices;
  CHECK(dense == run_random(unlabelled(1000, 900, {1, 2, 3}), 42).indices);
  CHECK(dense != run_random(unlabelled(1000, 900, {1, 2, 3}), 7).indices);
}

TEST_CASE("random: every open point is equally likely over seeds") {
  // 12 open points of 16 (4 pre-selected); 3 picks per seed; chi-square, 11 dof, 0.999 quantile.
  const std::vector<int64_t> already{0, 5, 10, 15};
  std::vector<double> counts(16, 0);
  const int draws = 12000;
  for (int s = 0; s < draws; ++s)
    for (int64_t i : run_random(unlabelled(16, 3, already), static_cast<uint64_t>(s)).indices) ++counts[static_cast<size_t>(i)];
  double stat = 0;
  const double expected = draws * 3.0 / 12.0;
  for (int64_t i = 0; i < 16; ++i) {
    if (i % 5 == 0) {
      CHECK(counts[static_cast<size_t>(i)] == 0);
      continue;
    }
    stat += (counts[static_cast<size_t>(i)] - expected) * (counts[static_cast<size_t>(i)] - expected) / expected;
  }
  CHECK(stat < 31.264189652949022);  // scipy.stats.chi2.ppf(0.999, 11)
}

TEST_CASE("random: invalid requests are rejected by validate_request") {
  const MethodSpec& spec = method("random");
  CHECK_THROWS_AS(validate_request(spec, unlabelled(10, 0)), Error);
  CHECK_THROWS_AS(validate_request(spec, unlabelled(10, 11)), Error);
  CHECK_THROWS_AS(validate_request(spec, unlabelled(10, 8, {1, 2, 3})), Error);  // 7 open
  CHECK_NOTHROW(validate_request(spec, unlabelled(10, 7, {1, 2, 3})));
  CHECK_THROWS_AS(validate_request(spec, unlabelled(10, 1, {1, 1})), Error);
  CHECK_THROWS_AS(validate_request(spec, unlabelled(10, 1, {10})), Error);
  CHECK_THROWS_AS(validate_request(spec, unlabelled(10, 1, {-1})), Error);
  CHECK_THROWS_AS(validate_request(spec, unlabelled(0, 1)), Error);
}
