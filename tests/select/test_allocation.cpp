// Tests for libsubset/select/allocation.h: how a budget is split over classes (balanced,
// stratified) and how per-class picks are interleaved. Hand-computed cases first, then the same
// rules checked against small independent oracles over many random inputs.
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/allocation.h"

using subset::Error;
using subset::Rng;
using subset::select::balanced_allocation;
using subset::select::interleave;
using subset::select::interleave_order;
using subset::select::stratified_allocation;
using V = std::vector<int64_t>;

namespace {

__extension__ typedef __int128 int128;

int64_t sum(const V& v) { return std::accumulate(v.begin(), v.end(), int64_t{0}); }

// Balanced, one point at a time: the open class (alloc < available) with the fewest points so
// far, ties to the lowest id. Independent of the library's round-based water-filling.
V balanced_oracle(const V& available, int64_t budget) {
  V alloc(available.size(), 0);
  for (int64_t step = 0; step < budget; ++step) {
    size_t best = available.size();
    for (size_t c = 0; c < available.size(); ++c)
      if (alloc[c] < available[c] && (best == available.size() || alloc[c] < alloc[best])) best = c;
    REQUIRE(best < available.size());
    ++alloc[best];
  }
  return alloc;
}

// Largest remainder in exact integer arithmetic (the quota of class c is budget * a_c / total; its
// remainder is (budget * a_c) mod total), ties to the lower class id; then every non-empty class
// gets at least one point when the budget allows, taken from the class whose share most exceeds
// its quota (alloc_d - quota_d compared as alloc_d * total - budget * a_d), ties to the lower id.
V stratified_oracle(const V& available, int64_t budget) {
  const int64_t total = sum(available);
  const size_t k = available.size();
  V alloc(k);
  std::vector<int128> rem(k);
  for (size_t c = 0; c < k; ++c) {
    const int128 scaled = static_cast<int128>(budget) * available[c];
    alloc[c] = static_cast<int64_t>(scaled / total);
    rem[c] = scaled % total;
  }
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return rem[a] > rem[b]; });
  for (size_t i = 0; sum(alloc) < budget; ++i) ++alloc[order[i]];
  const auto nonempty = std::count_if(available.begin(), available.end(), [](int64_t a) { return a > 0; });
  if (budget >= nonempty) {
    for (size_t c = 0; c < k; ++c) {
      if (available[c] == 0 || alloc[c] > 0) continue;
      size_t donor = k;
      auto excess = [&](size_t d) { return static_cast<int128>(alloc[d]) * total - static_cast<int128>(budget) * available[d]; };
      for (size_t d = 0; d < k; ++d)
        if (alloc[d] > 1 && (donor == k || excess(d) > excess(donor))) donor = d;
      REQUIRE(donor < k);
      --alloc[donor];
      ++alloc[c];
    }
  }
  return alloc;
}

V random_sizes(Rng& rng, size_t classes, int64_t max_size, bool allow_empty) {
  V sizes(classes);
  for (auto& s : sizes) s = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(max_size) + 1));
  if (!allow_empty)
    for (auto& s : sizes) s = std::max<int64_t>(s, 1);
  if (sum(sizes) == 0) sizes[0] = 1;
  return sizes;
}

}  // namespace

// ---- balanced ----------------------------------------------------------------------------------

TEST_CASE("allocation: balanced hand cases") {
  CHECK(balanced_allocation({5, 5, 5}, 10) == V{4, 3, 3});    // 3 each, the remainder to class 0
  CHECK(balanced_allocation({10, 10, 10, 10}, 6) == V{2, 2, 1, 1});
  CHECK(balanced_allocation({5, 5, 5}, 15) == V{5, 5, 5});
  CHECK(balanced_allocation({5, 5, 5}, 1) == V{1, 0, 0});
  CHECK(balanced_allocation({5, 5, 5}, 0) == V{0, 0, 0});
  CHECK(balanced_allocation({7}, 4) == V{4});
}

TEST_CASE("allocation: balanced water-filling gives a small class's unused share to the others") {
  // Class 0 has one point: it takes it, and its share of 3 goes to the others (3 + 1 each).
  CHECK(balanced_allocation({1, 10, 10}, 9) == V{1, 4, 4});
  // One more point: equal levels 4 + 4, then the odd one to the lowest open class id (1).
  CHECK(balanced_allocation({1, 10, 10}, 10) == V{1, 5, 4});
  // Shares of 5: class 0 takes its 2, class 1 its 3, class 2 five; the 5 left over all go to
  // class 2, the only class still open.
  CHECK(balanced_allocation({2, 3, 20}, 15) == V{2, 3, 10});
  // An empty class gets nothing and does not hold back the remainder.
  CHECK(balanced_allocation({2, 0, 7}, 6) == V{2, 0, 4});
  CHECK(balanced_allocation({0, 4, 4}, 3) == V{0, 2, 1});
}

TEST_CASE("allocation: balanced with budget == total takes everything") {
  const V sizes{1000, 5, 1, 0, 42};
  CHECK(balanced_allocation(sizes, sum(sizes)) == sizes);
}

TEST_CASE("allocation: balanced refuses a budget above the points available") {
  CHECK_THROWS_AS(balanced_allocation({1, 2, 3}, 7), Error);
  CHECK_THROWS_AS(balanced_allocation({1, 2, 3}, -1), Error);
  CHECK_THROWS_AS(balanced_allocation({}, 1), Error);
}

TEST_CASE("allocation: balanced agrees with a one-at-a-time oracle on random inputs") {
  Rng rng(11);
  for (int trial = 0; trial < 2000; ++trial) {
    const V sizes = random_sizes(rng, 1 + rng.uniform_index(8), 1 + static_cast<int64_t>(rng.uniform_index(40)), true);
    const int64_t budget = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(sum(sizes)) + 1));
    const V got = balanced_allocation(sizes, budget);
    INFO("trial " << trial << " budget " << budget);
    CHECK(got == balanced_oracle(sizes, budget));
    CHECK(sum(got) == budget);
    for (size_t c = 0; c < sizes.size(); ++c) CHECK(got[c] <= sizes[c]);
  }
}

// ---- stratified --------------------------------------------------------------------------------

TEST_CASE("allocation: stratified hand cases") {
  CHECK(stratified_allocation({50, 30, 20}, 10) == V{5, 3, 2});  // exact quotas
  // Quotas 15, 9, 4.5, 1.5: floors sum to 29; the remainders of classes 2 and 3 tie at 0.5, the
  // lower id wins.
  CHECK(stratified_allocation({50, 30, 15, 5}, 30) == V{15, 9, 5, 1});
  // Quotas 1.5, 1.5, 1: one point to hand out, the 0.5 remainders tie -> class 0.
  CHECK(stratified_allocation({3, 3, 2}, 4) == V{2, 1, 1});
  // Quotas 0.5 each, budget below the number of classes (no at-least-one rule): classes 0 and 1.
  CHECK(stratified_allocation({1, 1, 1, 1}, 2) == V{1, 1, 0, 0});
  CHECK(stratified_allocation({5, 5, 5}, 2) == V{1, 1, 0});
  // Quotas 0, 1.5, 1.5: an empty class gets nothing.
  CHECK(stratified_allocation({0, 10, 10}, 3) == V{0, 2, 1});
  CHECK(stratified_allocation({5, 5, 5}, 0) == V{0, 0, 0});
  // Nothing to split: no division by the zero total.
  CHECK(stratified_allocation({0, 0}, 0) == V{0, 0});
  CHECK(stratified_allocation({}, 0).empty());
  CHECK(balanced_allocation({0, 0}, 0) == V{0, 0});
  CHECK(balanced_allocation({}, 0).empty());
}

TEST_CASE("allocation: stratified ties are broken to the lower class id even when the quotas are not dyadic") {
  // Total 18, budget 6: class 0's quota is 7/3 (floor 2, remainder 1/3) and every other class's
  // is 1/3 (floor 0, remainder 1/3): twelve exactly equal remainders for 4 points. The lower ids
  // 0, 1, 2, 3 get them. 12 non-empty classes > budget 6, so the at-least-one rule does not apply.
  const V sizes{7, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  CHECK(stratified_allocation(sizes, 6) == V{3, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0});
  // The same with the big class last: remainders 1/3 everywhere, classes 0..3 win.
  const V reversed{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 7};
  CHECK(stratified_allocation(reversed, 6) == V{1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2});
}

TEST_CASE("allocation: stratified gives every class at least one point on a very imbalanced store") {
  // Quotas 9.94, 0.0497, 0.0099: largest remainder alone gives {10, 0, 0}. Each empty-handed class
  // takes one point from class 0, whose share most exceeds its quota.
  const V got = stratified_allocation({1000, 5, 1}, 10);
  CHECK(got == V{8, 1, 1});
  CHECK(sum(got) == 10);
  // Budget exactly the number of classes: one each.
  CHECK(stratified_allocation({1000, 5, 1}, 3) == V{1, 1, 1});
  // Budget below the number of non-empty classes: the rule cannot apply, proportions rule.
  CHECK(stratified_allocation({1000, 5, 1}, 2) == V{2, 0, 0});
  // An empty class is not given a point.
  CHECK(stratified_allocation({1000, 0, 1}, 5) == V{4, 0, 1});
}

TEST_CASE("allocation: stratified takes the at-least-one point from the class most above its quota") {
  // Total 100, budget 10: quotas 6, 3.6, 0.3, 0.1 -> largest remainder {6, 4, 0, 0}.
  // Class 2 needs one: class 1 exceeds its quota by 0.4, class 0 by 0 -> class 1 gives: {6, 3, 1, 0}.
  // Class 3 needs one: class 0 exceeds by 0, class 1 by -0.6 (class 2 has only one) -> class 0.
  CHECK(stratified_allocation({60, 36, 3, 1}, 10) == V{5, 3, 1, 1});
}

TEST_CASE("allocation: stratified with budget == total takes everything") {
  const V sizes{1000, 5, 1, 0, 42};
  CHECK(stratified_allocation(sizes, sum(sizes)) == sizes);
  CHECK(stratified_allocation({1, 1, 1}, 3) == V{1, 1, 1});
}

TEST_CASE("allocation: stratified refuses a budget above the points available") {
  CHECK_THROWS_AS(stratified_allocation({1, 2, 3}, 7), Error);
  CHECK_THROWS_AS(stratified_allocation({1, 2, 3}, -1), Error);
}

TEST_CASE("allocation: stratified agrees with an exact-arithmetic oracle on random inputs") {
  Rng rng(12);
  for (int trial = 0; trial < 3000; ++trial) {
    // Small sizes make exact ties between remainders common.
    const V sizes = random_sizes(rng, 1 + rng.uniform_index(12), 1 + static_cast<int64_t>(rng.uniform_index(30)),
                                 trial % 3 == 0);
    const int64_t budget = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(sum(sizes)) + 1));
    const V got = stratified_allocation(sizes, budget);
    INFO("trial " << trial << " budget " << budget);
    CHECK(got == stratified_oracle(sizes, budget));
    CHECK(sum(got) == budget);
    for (size_t c = 0; c < sizes.size(); ++c) CHECK(got[c] <= sizes[c]);
  }
}

TEST_CASE("allocation: stratified works with 10^8-scale counts without overflow") {
  const V sizes{60'000'000, 30'000'000, 9'999'999, 1};
  const V got = stratified_allocation(sizes, 50'000'000);
  CHECK(got == stratified_oracle(sizes, 50'000'000));
  CHECK(sum(got) == 50'000'000);
  CHECK(got[3] == 1);
}

// ---- interleave --------------------------------------------------------------------------------

TEST_CASE("allocation: interleave hand cases") {
  // Keys a: 1/8, 3/8, 5/8, 7/8; b: 1/4, 3/4.
  CHECK(interleave({{10, 11, 12, 13}, {20, 21}}) == V{10, 20, 11, 12, 21, 13});
  // Equal counts: round robin by class.
  CHECK(interleave({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}}) == V{1, 4, 7, 2, 5, 8, 3, 6, 9});
  // Keys a: 1/12, 3/12, ..., 11/12; b: 2/12, 6/12, 10/12.
  CHECK(interleave({{0, 1, 2, 3, 4, 5}, {100, 101, 102}}) == V{0, 100, 1, 2, 101, 3, 4, 102, 5});
  // Empty classes are skipped; one pick per class sits in the middle (key 1/2): class order.
  CHECK(interleave({{}, {5}, {}, {6}}) == V{5, 6});
  CHECK(interleave({}).empty());
  CHECK(interleave({{}, {}}).empty());
}

TEST_CASE("allocation: interleave_order pairs match interleave") {
  const std::vector<size_t> counts{3, 0, 1, 2};
  const auto order = interleave_order(counts);
  // Keys: class 0: 1/6, 1/2, 5/6; class 2: 1/2; class 3: 1/4, 3/4. Ties (1/2) by class.
  const std::vector<std::pair<size_t, size_t>> expected{{0, 0}, {3, 0}, {0, 1}, {2, 0}, {3, 1}, {0, 2}};
  CHECK(order == expected);
}

TEST_CASE("allocation: interleave keeps each prefix balanced and each class's own order") {
  Rng rng(13);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t k = 1 + rng.uniform_index(6);
    std::vector<std::vector<int64_t>> lists(k);
    std::vector<size_t> counts(k);
    size_t total = 0;
    for (size_t c = 0; c < k; ++c) {
      counts[c] = rng.uniform_index(15);
      for (size_t j = 0; j < counts[c]; ++j) lists[c].push_back(static_cast<int64_t>(c * 1000 + j));
      total += counts[c];
    }
    const V merged = interleave(lists);
    REQUIRE(merged.size() == total);
    // Brute-force order by the documented key (j + 0.5) / m compared exactly: (2j+1) * m' vs (2j'+1) * m.
    std::vector<std::pair<size_t, size_t>> expected;
    for (size_t c = 0; c < k; ++c)
      for (size_t j = 0; j < counts[c]; ++j) expected.emplace_back(c, j);
    std::stable_sort(expected.begin(), expected.end(), [&](auto a, auto b) {
      const uint64_t lhs = (2 * a.second + 1) * counts[b.first], rhs = (2 * b.second + 1) * counts[a.first];
      return lhs != rhs ? lhs < rhs : a.first < b.first;
    });
    for (size_t p = 0; p < total; ++p)
      CHECK(merged[p] == static_cast<int64_t>(expected[p].first * 1000 + expected[p].second));
    // Prefix balance for two equally sized classes: never more than one apart.
    if (k == 2 && counts[0] == counts[1]) {
      int64_t diff = 0;
      for (int64_t v : merged) {
        diff += v < 1000 ? 1 : -1;
        CHECK(std::abs(diff) <= 1);
      }
    }
    // Every class's picks appear in their own order.
    std::vector<int64_t> next(k, 0);
    for (int64_t v : merged) {
      const auto c = static_cast<size_t>(v / 1000);
      CHECK(v % 1000 == next[c]);
      ++next[c];
    }
  }
}

TEST_CASE("allocation: interleave prefix proportions stay within one point of the final ones") {
  // Sizes like a balanced/stratified allocation of an imbalanced store.
  const std::vector<size_t> counts{40, 25, 8, 2};
  std::vector<std::vector<int64_t>> lists(counts.size());
  for (size_t c = 0; c < counts.size(); ++c) lists[c].assign(counts[c], static_cast<int64_t>(c));
  const V merged = interleave(lists);
  const double total = 75;
  std::vector<double> seen(counts.size(), 0);
  for (size_t p = 0; p < merged.size(); ++p) {
    ++seen[static_cast<size_t>(merged[p])];
    for (size_t c = 0; c < counts.size(); ++c) {
      const double ideal = static_cast<double>(p + 1) * static_cast<double>(counts[c]) / total;
      INFO("prefix " << p + 1 << " class " << c);
      CHECK(std::abs(seen[c] - ideal) <= 1.0);
    }
  }
}
