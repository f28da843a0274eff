// Tests for the torch-free half of the importance coresets (libsubset/select/scores.h,
// importance.h): the orders (hardest, easiest, coverage) on hand-made scores, the coverage
// allocation against hand computation, pruning, the provider hook, the parameter domains, and the
// selector with a stand-in provider, per class included. The scores themselves: tests/nn.
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/importance.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/scores.h"
#include "support/error_of.h"
#include "support/fake_scores.h"
#include "support/files.h"
#include "support/labelled_set.h"

using namespace subset::select;
using subset::Error;
using subset::test::error_of;
using subset::test::FakeScores;
using V = std::vector<int64_t>;

namespace {

OrderedPicks order(const std::vector<float>& scores, int64_t budget, ScoreOrder o, double prune = 0, int64_t bins = 50,
                   uint64_t seed = 1, const V& excluded = {}) {
  subset::Rng rng(seed);
  return order_by_scores(scores, budget, o, prune, bins, rng, excluded);
}

std::set<int64_t> as_set(const V& v) { return {v.begin(), v.end()}; }

// What FakeScores answers for every point of the set.
std::vector<float> fake_scores_of(const subset::test::LabelledSet& set) {
  ScoreRequest r;
  r.features = set.features.data();
  r.n = set.n();
  r.dim = set.dim;
  r.labels = &set.labels;
  return FakeScores::default_scores(r);
}

const char* const kImportance[] = {"loss", "el2n", "grand", "forgetting", "entropy", "margin", "least-confidence"};

}  // namespace

TEST_CASE("importance order: hardest takes the highest scores first, easiest the lowest") {
  const std::vector<float> s = {0.5f, 3.0f, 1.0f, 2.0f, -1.0f};
  CHECK(order(s, 3, ScoreOrder::Hardest).indices == V{1, 3, 2});
  CHECK(order(s, 3, ScoreOrder::Easiest).indices == V{4, 0, 2});
  CHECK(order(s, 5, ScoreOrder::Hardest).indices == V{1, 3, 2, 0, 4});
  CHECK(order(s, 0, ScoreOrder::Hardest).indices.empty());
  CHECK(order(s, 2, ScoreOrder::Hardest, 0, 50, 1, {1}).indices == V{3, 2});
  CHECK(order(s, 2, ScoreOrder::Easiest, 0, 50, 1, {4, 2}).indices == V{0, 3});
}

TEST_CASE("importance order: ties are broken at random from the seed, not by index") {
  const std::vector<float> s = {1, 1, 1, 0, 2, 2};
  std::set<int64_t> thirds;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    const V picked = order(s, 3, ScoreOrder::Hardest, 0, 50, seed).indices;
    CHECK(as_set({picked[0], picked[1]}) == std::set<int64_t>{4, 5});
    CHECK(s[static_cast<size_t>(picked[2])] == 1.0f);
    thirds.insert(picked[2]);
    CHECK(order(s, 3, ScoreOrder::Hardest, 0, 50, seed).indices == picked);  // same seed, same picks
  }
  CHECK(thirds == std::set<int64_t>{0, 1, 2});
}

TEST_CASE("importance order: prune-hardest drops exactly the top scores, never below the budget") {
  std::vector<float> s(100);
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<float>((i * 37) % 100);  // a permutation of 0..99
  auto by_score = [&](const V& picks) {
    std::vector<float> v;
    for (int64_t i : picks) v.push_back(s[static_cast<size_t>(i)]);
    return v;
  };
  const OrderedPicks hard = order(s, 5, ScoreOrder::Hardest, 0.1);
  CHECK(hard.pruned == 10);
  CHECK(by_score(hard.indices) == std::vector<float>{89, 88, 87, 86, 85});
  CHECK(by_score(order(s, 5, ScoreOrder::Easiest, 0.1).indices) == std::vector<float>{0, 1, 2, 3, 4});
  for (uint64_t seed = 0; seed < 5; ++seed) {
    const OrderedPicks cov = order(s, 60, ScoreOrder::Coverage, 0.25, 10, seed);
    CHECK(cov.pruned == 25);
    for (float v : by_score(cov.indices)) CHECK(v < 75);
  }
  // floor(0.5 * 10) = 5 would leave 5 < 8: only 2 are dropped.
  const std::vector<float> ten = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  const OrderedPicks capped = order(ten, 8, ScoreOrder::Hardest, 0.5);
  CHECK(capped.pruned == 2);
  CHECK(capped.indices == V{2, 3, 4, 5, 6, 7, 8, 9});
  // Already-selected points neither count as open nor get pruned.
  const OrderedPicks excl = order(ten, 3, ScoreOrder::Hardest, 0.25, 50, 1, {0, 1, 2, 3});
  CHECK(excl.pruned == 1);  // floor(0.25 * 6)
  CHECK(excl.indices == V{5, 6, 7});
}

TEST_CASE("importance order: coverage allocation, sparsest stratum first, computed by hand") {
  // Visit order by size: s0 (1), s2 (3), s4 (6), s1 (10); s3 is empty.
  // budget 11: s0 min(1, 11/4=2) = 1; s2 min(3, 10/3=3) = 3; s4 min(6, 7/2=3) = 3; s1 min(10, 4/1) = 4.
  CHECK(coverage_allocation({1, 10, 3, 0, 6}, 11) == V{1, 4, 3, 0, 3});
  CHECK(coverage_allocation({1, 10, 3, 0, 6}, 20) == V{1, 10, 3, 0, 6});
  CHECK(coverage_allocation({1, 10, 3, 0, 6}, 4) == V{1, 1, 1, 0, 1});
  CHECK(coverage_allocation({1, 10, 3, 0, 6}, 0) == V{0, 0, 0, 0, 0});
  // Equal sizes: the lower stratum first; 4/3 = 1, 3/2 = 1, 2/1 = 2.
  CHECK(coverage_allocation({2, 2, 2}, 4) == V{1, 1, 2});
  for (int64_t budget = 0; budget <= 20; ++budget) {
    const V take = coverage_allocation({1, 10, 3, 0, 6}, budget);
    int64_t sum = 0;
    for (int64_t t : take) sum += t;
    CHECK(sum == budget);  // the whole budget, always
  }
  CHECK_THROWS_AS(coverage_allocation({1, 2}, 4), Error);
}

TEST_CASE("importance order: coverage spreads the budget over equal-width strata, uniformly within each") {
  // bins = 5 over [0, 10]: width 2. Stratum 0: {0.0}; 1: ten points in [2, 4); 2: three in [4, 6);
  // 3: none; 4: five in [8, 10) and the maximum 10.0 (the top edge belongs to the last stratum).
  std::vector<float> s = {0.0f};
  for (int i = 0; i < 10; ++i) s.push_back(2.0f + 0.15f * static_cast<float>(i));
  for (int i = 0; i < 3; ++i) s.push_back(4.5f + 0.5f * static_cast<float>(i));
  for (int i = 0; i < 5; ++i) s.push_back(8.0f + 0.3f * static_cast<float>(i));
  s.push_back(10.0f);
  auto stratum = [&](int64_t i) { return std::min<int64_t>(4, static_cast<int64_t>(s[static_cast<size_t>(i)] / 2)); };
  std::set<int64_t> seen_in_1;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const OrderedPicks cov = order(s, 11, ScoreOrder::Coverage, 0, 5, seed);
    CHECK(cov.strata == 4);
    CHECK(cov.indices.size() == 11);
    CHECK(as_set(cov.indices).size() == 11);
    V counts(5, 0);
    for (int64_t i : cov.indices) {
      CHECK((i >= 0 && i < static_cast<int64_t>(s.size())));
      ++counts[static_cast<size_t>(stratum(i))];
      if (stratum(i) == 1) seen_in_1.insert(i);
    }
    CHECK(counts == V{1, 4, 3, 0, 3});  // = coverage_allocation({1, 10, 3, 0, 6}, 11)
    CHECK(order(s, 11, ScoreOrder::Coverage, 0, 5, seed).indices == cov.indices);
  }
  CHECK(seen_in_1.size() == 10);  // every point of the big stratum gets picked under some seed
  // Equal scores: one stratum, a uniform sample.
  const std::vector<float> flat(30, 0.25f);
  const OrderedPicks one = order(flat, 7, ScoreOrder::Coverage, 0, 50, 3);
  CHECK(one.strata == 1);
  CHECK(as_set(one.indices).size() == 7);
  // Coverage of the whole set is the whole set.
  CHECK(as_set(order(s, static_cast<int64_t>(s.size()), ScoreOrder::Coverage, 0, 5).indices).size() == s.size());
}

TEST_CASE("importance order: bad arguments are errors") {
  const std::vector<float> s = {1, 2, 3};
  CHECK_THROWS_AS(order(s, 4, ScoreOrder::Hardest), Error);
  CHECK_THROWS_AS(order(s, 1, ScoreOrder::Coverage, 1.0), Error);
  CHECK_THROWS_AS(order(s, 1, ScoreOrder::Coverage, -0.1), Error);
  CHECK_THROWS_AS(order(s, 1, ScoreOrder::Coverage, 0, 0), Error);
  CHECK(parse_score_order("coverage") == ScoreOrder::Coverage);
  CHECK(std::string(error_of([] { parse_score_order("bogus"); }).what()).find("bogus") != std::string::npos);
}

TEST_CASE("importance methods: parameters are checked by their schema before any work") {
  for (const char* name : kImportance) {
    CAPTURE(name);
    const MethodSpec& spec = method(name);
    CHECK(spec.needs_scores);
    CHECK(spec.needs_features);
    CHECK(spec.needs_labels);
    CHECK_NOTHROW(spec.params.resolve({{"prune-hardest", "0.99"}, {"order", "coverage"}}));
    for (const auto& [param, value] : std::vector<std::pair<std::string, std::string>>{
             {"prune-hardest", "1"}, {"prune-hardest", "-0.1"}, {"prune-hardest", "nan"}, {"score-epochs", "0"},
             {"score-repeats", "0"}, {"order", "bogus"}, {"bins", "0"}, {"score-lr", "0"}, {"score-model", "cnn"}}) {
      CAPTURE(param);
      CHECK(std::string(error_of([&] { spec.params.resolve({{param, value}}); }).what()).find(param) !=
            std::string::npos);
    }
  }
  for (const auto& m : methods())
    if (std::find(std::begin(kImportance), std::end(kImportance), m.name) == std::end(kImportance))
      CHECK_FALSE(m.needs_scores);
}

TEST_CASE("importance methods: without a provider, scoring is a clear error") {
  REQUIRE(!score_provider());  // this binary does not link libtorch
  const auto set = subset::test::make_labelled_set({5, 5});
  const auto selector = make_selector("el2n", method("el2n").params.resolve({}));
  const Error e = error_of([&] { selector->select(set.request(3), RunContext{0, {}}); });
  CHECK(std::string(e.what()).find("libsubset_workflows_nn (libtorch)") != std::string::npos);
}

TEST_CASE("importance methods: the provider's answer is checked") {
  const auto set = subset::test::make_labelled_set({5, 5});
  const auto selector = make_selector("loss", method("loss").params.resolve({}));
  {
    const FakeScores short_answer([](const ScoreRequest& r) { return std::vector<float>(static_cast<size_t>(r.n - 1)); });
    CHECK(std::string(error_of([&] { selector->select(set.request(3), RunContext{0, {}}); }).what()).find("9 scores") !=
          std::string::npos);
  }
  const FakeScores nan_answer([](const ScoreRequest& r) {
    std::vector<float> s(static_cast<size_t>(r.n), 1.0f);
    s[4] = std::numeric_limits<float>::quiet_NaN();
    return s;
  });
  CHECK(std::string(error_of([&] { selector->select(set.request(3), RunContext{0, {}}); }).what()).find("point 4") !=
        std::string::npos);
}

TEST_CASE("importance methods: the request reaches the provider, and each pick carries its score") {
  const auto set = subset::test::make_labelled_set({12, 8});
  const FakeScores fake;
  const subset::ParamMap params = method("margin").params.resolve({{"score-epochs", "4"},
                                                           {"score-repeats", "2"},
                                                           {"score-model", "linear"},
                                                           {"score-lr", "0.01"},
                                                           {"order", "hardest"}});
  const auto selector = make_selector("margin", params);
  const Selection sel = selector->select(set.request(6), RunContext{42, {}});
  REQUIRE(fake.requests().size() == 1);
  const auto& seen = fake.requests()[0];
  CHECK(seen.kind == ScoreKind::Margin);
  CHECK(seen.n == 20);
  CHECK(seen.dim == 3);
  CHECK(seen.num_classes == 2);
  CHECK(seen.labels == set.labels);
  CHECK(seen.epochs == 4);
  CHECK(seen.repeats == 2);
  CHECK(seen.seed == 42);
  CHECK(seen.proxy.model == "linear");
  CHECK(seen.proxy.learning_rate == doctest::Approx(0.01));
  const std::vector<float> all = fake_scores_of(set);
  REQUIRE(sel.scores.size() == 6);
  float lowest_picked = 1e9f;
  for (size_t j = 0; j < 6; ++j) {
    CHECK(sel.scores[j] == all[static_cast<size_t>(sel.indices[j])]);
    lowest_picked = std::min(lowest_picked, sel.scores[j]);
    if (j > 0) CHECK(sel.scores[j] <= sel.scores[j - 1]);  // hardest: descending
  }
  const std::set<int64_t> picked = as_set(sel.indices);
  for (int64_t i = 0; i < set.n(); ++i)
    if (!picked.count(i)) CHECK(all[static_cast<size_t>(i)] <= lowest_picked);
  CHECK(sel.stats["pruned"] == 0);
}

TEST_CASE("importance methods: per class, the points are scored once over all classes, ordered within each") {
  const auto set = subset::test::make_labelled_set({30, 20, 10});
  const FakeScores fake;
  const auto selector = make_selector("loss", method("loss").params.resolve({{"order", "hardest"}}));
  const Selection sel = select_per_class(*selector, set.request(12), RunContext{5, {}});
  REQUIRE(fake.requests().size() == 1);
  CHECK(fake.requests()[0].n == set.n());
  CHECK(fake.requests()[0].labels == set.labels);  // the real labels, not one class at a time
  const std::vector<float> all = fake_scores_of(set);
  REQUIRE(sel.indices.size() == 12);
  REQUIRE(sel.scores.size() == 12);
  std::vector<float> lowest(3, 1e9f);
  for (size_t j = 0; j < 12; ++j) {
    const size_t c = static_cast<size_t>(set.labels[static_cast<size_t>(sel.indices[j])]);
    CHECK(sel.scores[j] == all[static_cast<size_t>(sel.indices[j])]);
    lowest[c] = std::min(lowest[c], sel.scores[j]);
  }
  CHECK(subset::test::class_counts(set.labels, sel.indices, 3) == V{4, 4, 4});
  const std::set<int64_t> picked = as_set(sel.indices);
  for (int64_t i = 0; i < set.n(); ++i) {
    const size_t c = static_cast<size_t>(set.labels[static_cast<size_t>(i)]);
    if (!picked.count(i)) CHECK(all[static_cast<size_t>(i)] <= lowest[c]);
  }
}
