// Tests for libsubset/select/sampling.h: uniform sampling without replacement (both the sparse
// rejection path and the dense leave-out path), rank -> index mapping around exclusions, and
// per-class sampling. Uniformity is checked with chi-square statistics at fixed seeds against the
// 0.999 quantile of the chi-square distribution (values from scipy.stats.chi2.ppf).
#include <doctest/doctest.h>

#include "support/vector_string.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/select/sampling.h"

using subset::Rng;
using subset::select::available_per_class;
using subset::select::rank_to_index;
using subset::select::sample_per_class;
using subset::select::sample_without_replacement;
using V = std::vector<int64_t>;

namespace {

// chi2.ppf(0.999, dof)
double chi2_999(int dof) {
  switch (dof) {
    case 9: return 27.877164871256568;
    case 19: return 43.82019596451753;
    case 119: return 172.41768160217916;
    default: FAIL("no quantile for " << dof << " degrees of freedom"); return 0;
  }
}

double chi_square(const std::vector<int64_t>& counts, double expected) {
  double stat = 0;
  for (int64_t c : counts) stat += (static_cast<double>(c) - expected) * (static_cast<double>(c) - expected) / expected;
  return stat;
}

void check_sample(const V& s, int64_t m, int64_t k) {
  REQUIRE(static_cast<int64_t>(s.size()) == k);
  std::set<int64_t> distinct(s.begin(), s.end());
  CHECK(static_cast<int64_t>(distinct.size()) == k);
  for (int64_t v : s) {
    CHECK(v >= 0);
    CHECK(v < m);
  }
}

// Complement of `excluded` in [0, n), ascending: what rank r must map to.
V complement(int64_t n, const V& excluded) {
  std::set<int64_t> ex(excluded.begin(), excluded.end());
  V out;
  for (int64_t i = 0; i < n; ++i)
    if (!ex.count(i)) out.push_back(i);
  return out;
}

}  // namespace

// ---- sample_without_replacement ----------------------------------------------------------------

TEST_CASE("sampling: sample_without_replacement returns k distinct values in range on both paths") {
  Rng rng(1);
  for (int64_t m : {1, 2, 3, 7, 64, 65, 100, 1000}) {
    for (int64_t k : {int64_t{1}, m / 3, m / 2, m / 2 + 1, (3 * m) / 4, m - 1, m}) {
      if (k < 1 || k > m) continue;
      INFO("m " << m << " k " << k);
      check_sample(sample_without_replacement(m, k, rng), m, k);
    }
  }
}

TEST_CASE("sampling: sample_without_replacement edge cases") {
  Rng rng(2);
  CHECK(sample_without_replacement(10, 0, rng).empty());
  CHECK(sample_without_replacement(0, 0, rng).empty());
  // k == m: a permutation of everything.
  V all = sample_without_replacement(50, 50, rng);
  std::sort(all.begin(), all.end());
  V expected(50);
  for (int64_t i = 0; i < 50; ++i) expected[static_cast<size_t>(i)] = i;
  CHECK(all == expected);
  // A large sparse draw and a large dense one.
  check_sample(sample_without_replacement(10'000'000, 1000, rng), 10'000'000, 1000);
  check_sample(sample_without_replacement(100'000, 99'000, rng), 100'000, 99'000);
}

TEST_CASE("sampling: sample_without_replacement is deterministic for a seed and differs between seeds") {
  Rng a(42), b(42), c(43);
  const V first = sample_without_replacement(1000, 10, a);
  CHECK(first == sample_without_replacement(1000, 10, b));
  CHECK(first != sample_without_replacement(1000, 10, c));
  // The same generator moves on: the next draw differs.
  CHECK(first != sample_without_replacement(1000, 10, a));
  Rng d(42), e(42);
  CHECK(sample_without_replacement(1000, 900, d) == sample_without_replacement(1000, 900, e));
}

TEST_CASE("sampling: sample_without_replacement is uniform (chi-square), sparse path k <= m/2") {
  const int64_t m = 20, k = 5, draws = 20000;
  Rng rng(2024);
  std::vector<int64_t> inclusion(m, 0), first(m, 0);
  for (int64_t d = 0; d < draws; ++d) {
    const V s = sample_without_replacement(m, k, rng);
    for (int64_t v : s) ++inclusion[static_cast<size_t>(v)];
    ++first[static_cast<size_t>(s[0])];
  }
  CHECK(chi_square(inclusion, double(draws * k) / m) < chi2_999(19));
  CHECK(chi_square(first, double(draws) / m) < chi2_999(19));
}

TEST_CASE("sampling: sample_without_replacement is uniform (chi-square), dense path k > m/2") {
  const int64_t m = 20, k = 15, draws = 20000;
  Rng rng(2025);
  std::vector<int64_t> inclusion(m, 0), first(m, 0), last(m, 0);
  for (int64_t d = 0; d < draws; ++d) {
    const V s = sample_without_replacement(m, k, rng);
    for (int64_t v : s) ++inclusion[static_cast<size_t>(v)];
    ++first[static_cast<size_t>(s.front())];
    ++last[static_cast<size_t>(s.back())];
  }
  CHECK(chi_square(inclusion, double(draws * k) / m) < chi2_999(19));
  // The order is random too (the kept values are shuffled, not left ascending).
  CHECK(chi_square(first, double(draws) / m) < chi2_999(19));
  CHECK(chi_square(last, double(draws) / m) < chi2_999(19));
}

TEST_CASE("sampling: every ordered sample is equally likely (chi-square over all outcomes)") {
  // m = 5: ordered pairs (sparse path, 20 outcomes) and ordered 4-tuples (dense path, 120).
  {
    Rng rng(7);
    std::map<V, int64_t> seen;
    const int64_t draws = 40000;
    for (int64_t d = 0; d < draws; ++d) ++seen[sample_without_replacement(5, 2, rng)];
    REQUIRE(seen.size() == 20);
    std::vector<int64_t> counts;
    for (const auto& [s, c] : seen) counts.push_back(c);
    CHECK(chi_square(counts, double(draws) / 20) < chi2_999(19));
  }
  {
    Rng rng(8);
    std::map<V, int64_t> seen;
    const int64_t draws = 120000;
    for (int64_t d = 0; d < draws; ++d) ++seen[sample_without_replacement(5, 4, rng)];
    REQUIRE(seen.size() == 120);
    std::vector<int64_t> counts;
    for (const auto& [s, c] : seen) counts.push_back(c);
    CHECK(chi_square(counts, double(draws) / 120) < chi2_999(119));
  }
}

// ---- rank_to_index -----------------------------------------------------------------------------

TEST_CASE("sampling: rank_to_index hand cases") {
  V ranks{0, 1, 2, 3};
  rank_to_index(ranks, {0, 2});  // non-excluded of [0, 6): 1, 3, 4, 5
  CHECK(ranks == V{1, 3, 4, 5});
  V same{5, 0, 3};
  rank_to_index(same, {});
  CHECK(same == V{5, 0, 3});
  V tail{0, 1};
  rank_to_index(tail, {5, 6, 7});  // exclusions after every rank change nothing
  CHECK(tail == V{0, 1});
  V head{0, 1, 2};
  rank_to_index(head, {0, 1, 2});  // a leading run of exclusions shifts by its length
  CHECK(head == V{3, 4, 5});
}

TEST_CASE("sampling: rank_to_index matches a brute-force complement") {
  Rng rng(9);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t n = 1 + static_cast<int64_t>(rng.uniform_index(200));
    const int64_t e = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(n)));
    V excluded = sample_without_replacement(n, e, rng);
    std::sort(excluded.begin(), excluded.end());
    const V open = complement(n, excluded);
    V ranks(open.size());
    for (size_t r = 0; r < ranks.size(); ++r) ranks[r] = static_cast<int64_t>(r);
    std::reverse(ranks.begin(), ranks.end());  // any order is mapped in place
    rank_to_index(ranks, excluded);
    for (size_t i = 0; i < ranks.size(); ++i) CHECK(ranks[i] == open[open.size() - 1 - i]);
  }
}

// ---- available_per_class and sample_per_class --------------------------------------------------

TEST_CASE("sampling: available_per_class counts labels minus exclusions") {
  const V labels{0, 1, 2, 0, 1, 2, 0, 1, 2, 2};
  CHECK(available_per_class(labels, {}) == V{3, 3, 4});
  CHECK(available_per_class(labels, {0, 9, 2}) == V{2, 3, 2});
  CHECK(available_per_class({0, 0, 3}, {}) == V{2, 0, 0, 1});
  CHECK(available_per_class({1, 1}, {0, 1}) == V{0, 0});
}

namespace {

// 300 labels in 4 classes of sizes 150, 90, 45, 15, shuffled deterministically.
V imbalanced_labels() {
  V labels;
  const V sizes{150, 90, 45, 15};
  for (size_t c = 0; c < sizes.size(); ++c) labels.insert(labels.end(), static_cast<size_t>(sizes[c]), static_cast<int64_t>(c));
  Rng rng(77);
  for (size_t i = labels.size(); i > 1; --i) std::swap(labels[i - 1], labels[rng.uniform_index(i)]);
  return labels;
}

}  // namespace

TEST_CASE("sampling: sample_per_class gives exact counts from the right class and skips exclusions") {
  const V labels = imbalanced_labels();
  V excluded;
  for (int64_t i = 0; i < 300; i += 7) excluded.push_back(i);
  const V avail = available_per_class(labels, excluded);
  const V take{10, avail[1], 0, 3};  // a whole class, an empty take, small ones
  const auto picks = sample_per_class(labels, excluded, take, Rng(5));
  REQUIRE(picks.size() == 4);
  const std::set<int64_t> ex(excluded.begin(), excluded.end());
  std::set<int64_t> all;
  for (size_t c = 0; c < 4; ++c) {
    CHECK(static_cast<int64_t>(picks[c].size()) == take[c]);
    for (int64_t i : picks[c]) {
      REQUIRE(i >= 0);
      REQUIRE(i < 300);
      CHECK(labels[static_cast<size_t>(i)] == static_cast<int64_t>(c));
      CHECK(ex.count(i) == 0);
      CHECK(all.insert(i).second);
    }
  }
  // Taking a whole class returns every non-excluded member.
  std::set<int64_t> class1(picks[1].begin(), picks[1].end());
  for (int64_t i = 0; i < 300; ++i)
    if (labels[static_cast<size_t>(i)] == 1 && !ex.count(i)) CHECK(class1.count(i) == 1);
}

TEST_CASE("sampling: sample_per_class draws class c with rng.fork(c), then shuffles with it") {
  const V labels = imbalanced_labels();
  const V excluded{3, 4, 5, 100, 299};
  const V avail = available_per_class(labels, excluded);
  const V take{20, 5, avail[2], 2};  // all of class 2
  const Rng rng(123);
  const auto picks = sample_per_class(labels, excluded, take, rng);
  const std::set<int64_t> ex(excluded.begin(), excluded.end());
  for (size_t c = 0; c < take.size(); ++c) {
    V members;  // the class's non-excluded points, ascending: rank r is members[r]
    for (int64_t i = 0; i < 300; ++i)
      if (labels[static_cast<size_t>(i)] == static_cast<int64_t>(c) && !ex.count(i)) members.push_back(i);
    REQUIRE(static_cast<int64_t>(members.size()) == avail[c]);
    Rng fork = rng.fork(c);
    const V ranks = sample_without_replacement(avail[c], take[c], fork);
    // The drawn ranks' points in index order, then a Fisher-Yates shuffle continuing the same stream.
    std::set<int64_t> drawn(ranks.begin(), ranks.end());
    V expected;
    for (int64_t r : drawn) expected.push_back(members[static_cast<size_t>(r)]);
    for (size_t k = expected.size(); k > 1; --k) std::swap(expected[k - 1], expected[fork.uniform_index(k)]);
    CHECK(picks[c] == expected);
  }
}

TEST_CASE("sampling: a class's picks do not depend on the other classes' budgets") {
  const V labels = imbalanced_labels();
  const auto a = sample_per_class(labels, {}, {10, 5, 5, 5}, Rng(9));
  const auto b = sample_per_class(labels, {}, {10, 50, 0, 15}, Rng(9));
  CHECK(a[0] == b[0]);
  const auto c = sample_per_class(labels, {}, {10, 5, 5, 5}, Rng(10));
  CHECK(a[0] != c[0]);
}

TEST_CASE("sampling: sample_per_class is uniform within a class (chi-square over seeds)") {
  // Class 1 of this labelling has 10 points (odd indices below 20); take 3 of them each time.
  V labels(40, 0);
  for (int64_t i = 1; i < 20; i += 2) labels[static_cast<size_t>(i)] = 1;
  std::vector<int64_t> counts(10, 0);
  const int64_t draws = 20000;
  for (int64_t s = 0; s < draws; ++s) {
    const auto picks = sample_per_class(labels, {}, {0, 3}, Rng(static_cast<uint64_t>(s)));
    for (int64_t i : picks[1]) ++counts[static_cast<size_t>(i / 2)];
  }
  CHECK(chi_square(counts, double(draws * 3) / 10) < chi2_999(9));
}
