// Tests for libsubset/select/balanced.h: exact per-class counts on an imbalanced labelled set
// against the hand-computed allocation, already_selected excluded, prefix balance, determinism.
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <set>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/balanced.h"
#include "libsubset/select/registry.h"
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

Selection run_balanced(const SelectionRequest& r, uint64_t seed) {
  validate_request(method("balanced"), r);
  return make_selector("balanced", ParamMap{})->select(r, RunContext{seed, {}});
}

}  // namespace

TEST_CASE("balanced: registered as needing labels") {
  CHECK(method("balanced").needs_labels);
  CHECK_FALSE(method("balanced").needs_features);
  CHECK(make_selector("balanced", ParamMap{})->name() == "balanced");
}

TEST_CASE("balanced: exact per-class counts on an imbalanced set") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  // Budget 30: shares of 7 (class 3 has only 5) = 26; 4 left over classes 0-2: one each = 29;
  // the last to class 0.
  const Selection s = run_balanced(set.request(30), 1);
  CHECK(all_unique_in_range(s.indices, 100));
  CHECK(class_counts(set.labels, s.indices, 4) == V{9, 8, 8, 5});
  CHECK(s.stats["class_budget"] == nlohmann::json(V{9, 8, 8, 5}));
  CHECK(s.weights.empty());
  // Budget 8: two each. Budget 10: the remainder to classes 0 and 1.
  CHECK(class_counts(set.labels, run_balanced(set.request(8), 2).indices, 4) == V{2, 2, 2, 2});
  CHECK(class_counts(set.labels, run_balanced(set.request(10), 2).indices, 4) == V{3, 3, 2, 2});
  // Everything.
  CHECK(class_counts(set.labels, run_balanced(set.request(100), 2).indices, 4) == V{50, 30, 15, 5});
}

TEST_CASE("balanced: already_selected is excluded and shrinks the classes it came from") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  V already = first_of_class(set.labels, 3, 3);
  const V more = first_of_class(set.labels, 0, 10);
  already.insert(already.end(), more.begin(), more.end());
  // Open: {40, 30, 15, 2}. Budget 30: shares of 7 (class 3 takes its 2) = 23; 7 over classes 0-2:
  // two each = 29; the last to class 0 -> {10, 9, 9, 2}.
  const Selection s = run_balanced(set.request(30, already), 4);
  CHECK(class_counts(set.labels, s.indices, 4) == V{10, 9, 9, 2});
  const std::set<int64_t> ex(already.begin(), already.end());
  for (int64_t i : s.indices) CHECK(ex.count(i) == 0);
  CHECK(all_unique_in_range(s.indices, 100));
}

TEST_CASE("balanced: every prefix of the selection is balanced") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  const Selection s = run_balanced(set.request(20), 6);  // 5 per class
  for (size_t p = 0; p < s.indices.size(); p += 4) {
    std::set<int64_t> round;
    for (size_t q = p; q < p + 4; ++q) round.insert(set.labels[static_cast<size_t>(s.indices[q])]);
    CHECK(round == std::set<int64_t>{0, 1, 2, 3});
  }
}

TEST_CASE("balanced: same seed, same selection; different seeds differ") {
  const auto set = make_labelled_set({50, 30, 15, 5});
  const V a = run_balanced(set.request(30), 42).indices;
  CHECK(a == run_balanced(set.request(30), 42).indices);
  CHECK(a != run_balanced(set.request(30), 43).indices);
}

TEST_CASE("balanced: invalid requests are rejected") {
  const auto set = make_labelled_set({5, 5});
  const MethodSpec& spec = method("balanced");
  SelectionRequest no_labels = set.request(3);
  no_labels.labels = nullptr;
  CHECK_THROWS_AS(validate_request(spec, no_labels), Error);
  SelectionRequest empty_class = set.request(3);
  empty_class.num_classes = 3;  // class 2 has no points
  CHECK_THROWS_AS(validate_request(spec, empty_class), Error);
  CHECK_THROWS_AS(validate_request(spec, set.request(11)), Error);
  CHECK_THROWS_AS(validate_request(spec, set.request(0)), Error);
  const V negative{0, -1, 0, 1};
  SelectionRequest neg = set.request(1);
  neg.labels = &negative;
  neg.n = 4;
  CHECK_THROWS_AS(validate_request(spec, neg), Error);
}
