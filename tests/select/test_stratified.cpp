// Tests for libsubset/select/stratified.h: exact per-class counts on an imbalanced labelled set
// against the hand-computed largest-remainder allocation, already_selected, determinism.
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <set>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/stratified.h"
#include "support/labelled_set.h"

using namespace subset::select;
using subset::Error;
using subset::ParamMap;
using subset::test::all_unique_in_range;
using subset::test::class_counts;
using subset::test::first_of_class;
using subset::test::make_labelled_set;
using V = std::vector<int64_t>;

namespace {

Selection run_stratified(const SelectionRequest& r, uint64_t seed) {
  validate_request(method("stratified"), r);
  return make_selector("stratified", ParamMap{})->select(r, RunContext{seed, {}});
}

}  // namespace

TEST_CASE("stratified: registered as needing labels") {
  CHECK(method("stratified").needs_labels);
  CHECK_FALSE(method("stratified").needs_features);
  CHECK(make_selector("stratified", ParamMap{})->name() == "stratified");
}

TEST_CASE("stratified: exact per-class counts on an imbalanced set") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  // Budget 30: quotas 15, 9, 4.5, 1.5; the tied remainders 0.5 -> class 2.
  const Selection s = run_stratified(set.request(30), 1);
  CHECK(all_unique_in_range(s.indices, 100));
  CHECK(class_counts(set.labels, s.indices, 4) == V{15, 9, 5, 1});
  CHECK(s.stats["class_budget"] == nlohmann::json(V{15, 9, 5, 1}));
  // Budget 10: quotas 5, 3, 1.5, 0.5 -> {5, 3, 2, 0}; class 3 must get one, from class 2, the one
  // most above its quota -> {5, 3, 1, 1}.
  CHECK(class_counts(set.labels, run_stratified(set.request(10), 2).indices, 4) == V{5, 3, 1, 1});
  // Budget 2 (fewer than the classes): quotas 1, 0.6, 0.3, 0.1 -> {1, 1, 0, 0}.
  CHECK(class_counts(set.labels, run_stratified(set.request(2), 2).indices, 4) == V{1, 1, 0, 0});
  CHECK(class_counts(set.labels, run_stratified(set.request(100), 2).indices, 4) == V{50, 30, 15, 5});
}

TEST_CASE("stratified: a very imbalanced set still gives every class a point") {
  const auto set = make_labelled_set({1000, 5, 1});
  const Selection s = run_stratified(set.request(10), 3);
  CHECK(class_counts(set.labels, s.indices, 3) == V{8, 1, 1});
}

TEST_CASE("stratified: already_selected is excluded and the proportions are of the open points") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  V already = first_of_class(set.labels, 3, 3);
  const V more = first_of_class(set.labels, 0, 10);
  already.insert(already.end(), more.begin(), more.end());
  // Open: {40, 30, 15, 2}, total 87. Budget 30: quotas 13.79, 10.34, 5.17, 0.69: floors 28, the
  // two largest remainders are classes 0 (0.79) and 3 (0.69) -> {14, 10, 5, 1}.
  const Selection s = run_stratified(set.request(30, already), 4);
  CHECK(class_counts(set.labels, s.indices, 4) == V{14, 10, 5, 1});
  const std::set<int64_t> ex(already.begin(), already.end());
  for (int64_t i : s.indices) CHECK(ex.count(i) == 0);
  CHECK(all_unique_in_range(s.indices, 100));
}

TEST_CASE("stratified: every prefix keeps roughly the class proportions") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  const Selection s = run_stratified(set.request(20), 6);  // {10, 6, 3, 1}
  const V counts = class_counts(set.labels, s.indices, 4);
  REQUIRE(counts == V{10, 6, 3, 1});
  // The first half holds half of each class's picks, within one.
  const V half = class_counts(set.labels, V(s.indices.begin(), s.indices.begin() + 10), 4);
  for (size_t c = 0; c < 4; ++c) CHECK(std::abs(2 * half[c] - counts[c]) <= 2);
}

TEST_CASE("stratified: same seed, same selection; different seeds differ") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  const V a = run_stratified(set.request(30), 42).indices;
  CHECK(a == run_stratified(set.request(30), 42).indices);
  CHECK(a != run_stratified(set.request(30), 43).indices);
}

TEST_CASE("stratified: invalid requests are rejected") {
  const auto set = make_labelled_set({5, 5});
  const MethodSpec& spec = method("stratified");
  SelectionRequest no_labels = set.request(3);
  no_labels.labels = nullptr;
  CHECK_THROWS_AS(validate_request(spec, no_labels), Error);
  SelectionRequest empty_class = set.request(3);
  empty_class.num_classes = 3;
  CHECK_THROWS_AS(validate_request(spec, empty_class), Error);
  CHECK_THROWS_AS(validate_request(spec, set.request(11)), Error);
}
