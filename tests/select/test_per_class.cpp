// Tests for select_per_class (libsubset/select/registry.h): a method run within each class with a
// balanced split of the budget. Checked with the random method and with a test-only selector
// that returns weights and scores and records what each class's sub-request looked like.
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/allocation.h"
#include "libsubset/select/random.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/sampling.h"
#include "support/labelled_set.h"

using namespace subset::select;
using subset::Error;
using subset::ParamMap;
using subset::Rng;
using subset::test::all_unique_in_range;
using subset::test::class_counts;
using subset::test::first_of_class;
using subset::test::LabelledSet;
using subset::test::make_labelled_set;
using V = std::vector<int64_t>;

namespace {

struct Call {
  int64_t n = 0;
  int64_t budget = 0;
  int64_t dim = 0;
  V already;
  std::vector<float> features;
  V labels;
  uint64_t seed = 0;
};

// Picks the highest local indices not already selected, weight = local index + 1,
// score = 1000 + local index; records every call.
class RecordingSelector : public Selector {
 public:
  explicit RecordingSelector(std::vector<Call>* log, bool weights = true, bool scores = true)
      : log_(log), weights_(weights), scores_(scores) {}
  std::string_view name() const override { return "recording"; }
  Selection select(const SelectionRequest& r, const RunContext& context) const override {
    Call call;
    call.n = r.n;
    call.budget = r.budget;
    call.dim = r.dim;
    call.already = r.already_selected;
    if (r.features) call.features.assign(r.features, r.features + r.n * r.dim);
    if (r.labels) call.labels = *r.labels;
    call.seed = context.seed;
    log_->push_back(call);
    const std::set<int64_t> skip(r.already_selected.begin(), r.already_selected.end());
    Selection out;
    for (int64_t i = r.n - 1; i >= 0 && static_cast<int64_t>(out.indices.size()) < r.budget; --i) {
      if (skip.count(i)) continue;
      out.indices.push_back(i);
      if (weights_) out.weights.push_back(static_cast<float>(i + 1));
      if (scores_) out.scores.push_back(static_cast<float>(1000 + i));
    }
    out.stats["calls"] = static_cast<int64_t>(log_->size());
    return out;
  }

 private:
  std::vector<Call>* log_;
  bool weights_, scores_;
};

// Ascending members of each class.
std::vector<V> members_of(const V& labels, size_t classes) {
  std::vector<V> m(classes);
  for (int64_t i = 0; i < static_cast<int64_t>(labels.size()); ++i) m[static_cast<size_t>(labels[static_cast<size_t>(i)])].push_back(i);
  return m;
}

int64_t local_index(const V& members, int64_t global) {
  return std::lower_bound(members.begin(), members.end(), global) - members.begin();
}

}  // namespace

TEST_CASE("per class: random within each class gives balanced per-class counts") {
  const LabelledSet set = make_labelled_set({50, 30, 15, 5});
  const RandomSelector random{ParamMap{}};
  const Selection s = select_per_class(random, set.request(30), RunContext{1, {}});
  CHECK(all_unique_in_range(s.indices, 100));
  CHECK(class_counts(set.labels, s.indices, 4) == V{9, 8, 8, 5});  // balanced_allocation
  CHECK(s.stats["class_budget"] == nlohmann::json(V{9, 8, 8, 5}));
  CHECK(s.stats["per_class"].size() == 4);
  CHECK(s.weights.empty());
  CHECK(s.scores.empty());
}

TEST_CASE("per class: each class's picks are the method's picks on that class, mapped back") {
  const LabelledSet set = make_labelled_set({50, 30, 15, 5});
  const RandomSelector random{ParamMap{}};
  const uint64_t seed = 99;
  const Selection s = select_per_class(random, set.request(30), RunContext{seed, {}});
  const auto members = members_of(set.labels, 4);
  const V take{9, 8, 8, 5};
  std::vector<V> expected(4);
  for (size_t c = 0; c < 4; ++c) {
    SelectionRequest sub;
    sub.n = static_cast<int64_t>(members[c].size());
    sub.budget = take[c];
    const Selection local = random.select(sub, RunContext{Rng(seed).fork(c).seed(), {}});
    for (int64_t i : local.indices) expected[c].push_back(members[c][static_cast<size_t>(i)]);
  }
  CHECK(s.indices == interleave(expected));
}

TEST_CASE("per class: already_selected is excluded, and passed to each class in its local numbering") {
  const LabelledSet set = make_labelled_set({50, 30, 15, 5});
  V already = first_of_class(set.labels, 3, 3);
  const V more = first_of_class(set.labels, 1, 4);
  already.insert(already.end(), more.begin(), more.end());
  std::vector<Call> log;
  const RecordingSelector rec(&log);
  const Selection s = select_per_class(rec, set.request(30, already), RunContext{5, {}});
  // Open {50, 26, 15, 2}: shares of 7 (class 3 takes 2) = 23, 7 over 0-2: two each = 29, one more
  // to class 0 -> {10, 9, 9, 2}.
  CHECK(class_counts(set.labels, s.indices, 4) == V{10, 9, 9, 2});
  const std::set<int64_t> ex(already.begin(), already.end());
  for (int64_t i : s.indices) CHECK(ex.count(i) == 0);
  const auto members = members_of(set.labels, 4);
  REQUIRE(log.size() == 4);
  for (size_t c = 0; c < 4; ++c) {
    std::set<int64_t> want;
    for (int64_t a : already)
      if (set.labels[static_cast<size_t>(a)] == static_cast<int64_t>(c)) want.insert(local_index(members[c], a));
    CHECK(std::set<int64_t>(log[c].already.begin(), log[c].already.end()) == want);
  }
}

TEST_CASE("per class: sub-requests carry the class's own feature rows and one-class labels") {
  const LabelledSet set = make_labelled_set({12, 7, 3});
  std::vector<Call> log;
  const RecordingSelector rec(&log);
  select_per_class(rec, set.request(9), RunContext{17, {}});
  const auto members = members_of(set.labels, 3);
  REQUIRE(log.size() == 3);
  for (size_t c = 0; c < 3; ++c) {
    INFO("class " << c);
    CHECK(log[c].n == static_cast<int64_t>(members[c].size()));
    CHECK(log[c].budget == 3);
    CHECK(log[c].dim == set.dim);
    std::vector<float> rows;
    for (int64_t i : members[c])
      rows.insert(rows.end(), set.features.begin() + i * set.dim, set.features.begin() + (i + 1) * set.dim);
    CHECK(log[c].features == rows);
    CHECK(log[c].labels == V(members[c].size(), 0));
    CHECK(log[c].seed == Rng(17).fork(c).seed());
  }
}

TEST_CASE("per class: weights and scores from the inner method travel with their indices") {
  const LabelledSet set = make_labelled_set({50, 30, 15, 5});
  std::vector<Call> log;
  const RecordingSelector rec(&log);
  const Selection s = select_per_class(rec, set.request(30), RunContext{1, {}});
  REQUIRE(s.weights.size() == s.indices.size());
  REQUIRE(s.scores.size() == s.indices.size());
  const auto members = members_of(set.labels, 4);
  for (size_t p = 0; p < s.indices.size(); ++p) {
    const int64_t g = s.indices[p];
    const auto c = static_cast<size_t>(set.labels[static_cast<size_t>(g)]);
    const int64_t local = local_index(members[c], g);
    REQUIRE(local < static_cast<int64_t>(members[c].size()));
    REQUIRE(members[c][static_cast<size_t>(local)] == g);
    CHECK(s.weights[p] == static_cast<float>(local + 1));
    CHECK(s.scores[p] == static_cast<float>(1000 + local));
  }
  // The recording selector takes the highest local indices: the last members of each class.
  for (size_t c = 0; c < 4; ++c) {
    const V take{9, 8, 8, 5};
    std::set<int64_t> want(members[c].end() - take[c], members[c].end());
    std::set<int64_t> got;
    for (int64_t g : s.indices)
      if (set.labels[static_cast<size_t>(g)] == static_cast<int64_t>(c)) got.insert(g);
    CHECK(got == want);
  }
  // Each class's stats are kept, in class order.
  for (size_t c = 0; c < 4; ++c) CHECK(s.stats["per_class"][c]["calls"] == static_cast<int64_t>(c + 1));
}

TEST_CASE("per class: weights only (no scores) stay weights only") {
  const LabelledSet set = make_labelled_set({6, 6});
  std::vector<Call> log;
  const RecordingSelector rec(&log, true, false);
  const Selection s = select_per_class(rec, set.request(4), RunContext{1, {}});
  CHECK(s.weights.size() == 4);
  CHECK(s.scores.empty());
}

TEST_CASE("per class: a class the split gives nothing is not run") {
  const LabelledSet set = make_labelled_set({6, 6, 6});
  std::vector<Call> log;
  const RecordingSelector rec(&log);
  const Selection s = select_per_class(rec, set.request(2), RunContext{1, {}});
  CHECK(log.size() == 2);
  CHECK(class_counts(set.labels, s.indices, 3) == V{1, 1, 0});
  CHECK(s.stats["per_class"].size() == 3);
}

TEST_CASE("per class: deterministic by seed; different seeds differ") {
  const LabelledSet set = make_labelled_set({50, 30, 15, 5});
  const RandomSelector random{ParamMap{}};
  const V a = select_per_class(random, set.request(30), RunContext{42, {}}).indices;
  CHECK(a == select_per_class(random, set.request(30), RunContext{42, {}}).indices);
  CHECK(a != select_per_class(random, set.request(30), RunContext{43, {}}).indices);
}

TEST_CASE("per class: labels with an empty class or a negative label are refused") {
  const LabelledSet set = make_labelled_set({5, 5});
  const RandomSelector random{ParamMap{}};
  SelectionRequest r = set.request(2);
  r.num_classes = 3;
  CHECK_THROWS_AS(select_per_class(random, r, RunContext{}), Error);
  const V skipping{0, 2, 2, 0};  // class 1 has no points
  SelectionRequest s;
  s.n = 4;
  s.budget = 2;
  s.labels = &skipping;
  CHECK_THROWS_AS(select_per_class(random, s, RunContext{}), Error);
  try {
    check_classes(s);
    FAIL("check_classes accepted an empty class");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("class 1 has no points") != std::string::npos);
  }
  const V negative{0, -1};
  SelectionRequest t;
  t.n = 2;
  t.budget = 1;
  t.labels = &negative;
  CHECK_THROWS_AS(check_classes(t), Error);
  SelectionRequest u;
  u.n = 2;
  u.budget = 1;  // no labels at all
  CHECK_THROWS_AS(select_per_class(random, u, RunContext{}), Error);
}
