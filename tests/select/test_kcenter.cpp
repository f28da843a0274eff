// Tests for libsubset/select/kcenter.h: the picks, scores, weights and covering radius equal those
// of a plain brute-force k-center greedy written below (the oracle), on random data of several
// shapes, with duplicated points, exact ties and already-selected points, at 1 and 2 threads and
// with every pruning device on or off; plus parameter errors.
#include <doctest/doctest.h>
#include <omp.h>

#include "support/vector_string.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/registry.h"
#include "support/oracle_distance.h"
#include "support/point_sets.h"

using namespace subset::select;
using subset::Error;
using subset::ParamMap;
using subset::Rng;
using subset::test::oracle_sq_dist;
using namespace subset::test;  // point sets

namespace {

struct Expected {
  std::vector<int64_t> picks;
  std::vector<float> scores, weights;
  double radius = 0.0;
};

// Brute-force k-center greedy: every point's distance to its nearest chosen point, updated with
// each new one (strictly smaller only, so ties stay with the earlier choice); next pick = largest
// distance among the unchosen, lowest index on ties.
Expected oracle_kcenter(const std::vector<float>& x, int64_t n, int64_t dim, const std::vector<int64_t>& already,
                        int64_t budget, int64_t first) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> mind(static_cast<size_t>(n), inf);
  std::vector<int64_t> nearest(static_cast<size_t>(n), -1);
  std::vector<bool> chosen(static_cast<size_t>(n), false);
  int64_t centers = 0;
  auto add = [&](int64_t c) {
    chosen[static_cast<size_t>(c)] = true;
    for (int64_t i = 0; i < n; ++i) {
      const double d = oracle_sq_dist(&x[static_cast<size_t>(i * dim)], &x[static_cast<size_t>(c * dim)], dim);
      if (d < mind[static_cast<size_t>(i)]) {
        mind[static_cast<size_t>(i)] = d;
        nearest[static_cast<size_t>(i)] = centers;
      }
    }
    ++centers;
  };
  for (int64_t a : already) add(a);
  Expected e;
  for (int64_t b = 0; b < budget; ++b) {
    int64_t c = first;
    if (b > 0 || !already.empty()) {
      c = -1;
      for (int64_t i = 0; i < n; ++i)
        if (!chosen[static_cast<size_t>(i)] && (c < 0 || mind[static_cast<size_t>(i)] > mind[static_cast<size_t>(c)]))
          c = i;
    }
    e.picks.push_back(c);
    e.scores.push_back(static_cast<float>(std::sqrt(mind[static_cast<size_t>(c)])));
    add(c);
  }
  for (int64_t i = 0; i < n; ++i) e.radius = std::max(e.radius, mind[static_cast<size_t>(i)]);
  e.radius = std::sqrt(e.radius);
  e.weights.assign(static_cast<size_t>(budget), 0.0f);
  const auto base = static_cast<int64_t>(already.size());
  for (int64_t i = 0; i < n; ++i)
    if (nearest[static_cast<size_t>(i)] >= base)
      e.weights[static_cast<size_t>(nearest[static_cast<size_t>(i)] - base)] += 1.0f;
  return e;
}


Selection run_kcenter(const Data& d, int64_t budget, std::vector<int64_t> already, uint64_t seed,
                      const std::map<std::string, std::string>& params = {}, int threads = 2) {
  const ParamMap p = method("kcenter").params.resolve(params);
  const auto selector = make_selector("kcenter", p);
  SelectionRequest r;
  r.n = d.n;
  r.dim = d.dim;
  r.features = d.x.data();
  r.budget = budget;
  r.already_selected = std::move(already);
  validate_request(method("kcenter"), r);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  Selection s = selector->select(r, RunContext{seed, {}});
  omp_set_num_threads(before);
  return s;
}

void check_against_oracle(const Data& d, int64_t budget, const std::vector<int64_t>& already, uint64_t seed,
                          const std::map<std::string, std::string>& params = {}) {
  const Selection one = run_kcenter(d, budget, already, seed, params, 1);
  const Selection two = run_kcenter(d, budget, already, seed, params, 2);
  const int64_t first = params.count("init-index")
                            ? std::stoll(params.at("init-index"))
                            : static_cast<int64_t>(Rng(seed).uniform_index(static_cast<uint64_t>(d.n)));
  const Expected e = oracle_kcenter(d.x, d.n, d.dim, already, budget, first);
  CHECK(one.indices == e.picks);
  CHECK(one.scores == e.scores);
  CHECK(one.weights == e.weights);
  CHECK(one.stats["covering_radius"].get<double>() == e.radius);
  CHECK(two.indices == one.indices);
  CHECK(two.scores == one.scores);
  CHECK(two.weights == one.weights);
  CHECK(two.stats == one.stats);
}

const std::vector<std::map<std::string, std::string>> kVariants = {
    {},
    {{"sketch-dims", "0"}},
    {{"quantized-bounds", "false"}},
    {{"sketch-dims", "0"}, {"quantized-bounds", "false"}},
    {{"sketch-dims", "3"}},
    {{"sketch-dims", "64"}},
};

}  // namespace

// Runs `body` with the best kernels, then at most AVX2, then plain C++.
template <typename F>
void for_each_kernel_level(F body) {
  for (int level : {0, 1, 2}) {
    CAPTURE(level);
    geometry::limit_kernels_for_testing(level);
    body();
  }
  geometry::limit_kernels_for_testing(0);
}

TEST_CASE("kcenter: the vectorised distance is the documented one, bit for bit") {
  for_each_kernel_level([] {
    Rng rng(5);
    for (int64_t dim : {1, 3, 15, 16, 17, 31, 32, 33, 100, 784, 1000}) {
      std::vector<float> a(static_cast<size_t>(dim)), b(static_cast<size_t>(dim));
      for (int rep = 0; rep < 20; ++rep) {
        for (auto& v : a) v = static_cast<float>(rng.normal() * std::pow(10.0, static_cast<double>(rep % 7) - 3.0));
        for (auto& v : b) v = static_cast<float>(rng.normal());
        CHECK(geometry::sq_dist(a.data(), b.data(), dim) == oracle_sq_dist(a.data(), b.data(), dim));
        CHECK(geometry::sq_dist_reference(a.data(), b.data(), dim) == oracle_sq_dist(a.data(), b.data(), dim));
      }
      CHECK(geometry::sq_dist(a.data(), a.data(), dim) == 0.0);
    }
  });
}

TEST_CASE("kcenter: every kernel level gives the same picks") {
  const Data d = clustered(5000, 33, 20, 17);
  for_each_kernel_level([&] { check_against_oracle(d, 60, {}, 2); });
  const Data img = pixels(700, 40, 18);
  for_each_kernel_level([&] { check_against_oracle(img, 50, {1, 2}, 2); });
}

TEST_CASE("kcenter: the sketch and 8-bit bounds never exceed the true distance") {
  for (const Data& d : {clustered(400, 37, 6, 1), gaussian(300, 20, 2, 1e3, 5e4), pixels(300, 64, 3)}) {
    const auto sk = geometry::build_sketch(d.x.data(), d.n, d.dim, 8);
    const auto q = geometry::quantize_rows(d.x.data(), d.n, d.dim);
    for (int64_t i = 0; i < d.n; i += 7)
      for (int64_t j = 0; j < d.n; j += 5) {
        const double exact = std::sqrt(
            oracle_sq_dist(&d.x[static_cast<size_t>(i * d.dim)], &d.x[static_cast<size_t>(j * d.dim)], d.dim));
        CHECK(sk.lower_bound(sk.coords_of(i), sk.error[static_cast<size_t>(i)], sk.coords_of(j),
                             sk.error[static_cast<size_t>(j)]) <= exact * (1 + 1e-6));
        CHECK(q.lower_bound(i, j) <= exact * (1 + 1e-6));
        CHECK(q.lower_bound(i, q.reference(j)) == q.lower_bound(i, j));
      }
  }
}

TEST_CASE("kcenter: identical to brute force on random data, several seeds and shapes") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    for (const Data& d : {gaussian(200, 5, seed), gaussian(150, 17, seed + 10), gaussian(120, 1, seed + 20)}) {
      CAPTURE(seed);
      CAPTURE(d.dim);
      check_against_oracle(d, 40, {}, seed);
      check_against_oracle(d, 40, {}, seed, {{"sketch-dims", "0"}, {"quantized-bounds", "false"}});
    }
  }
}

TEST_CASE("kcenter: identical to brute force with every pruning device on or off") {
  const Data d = clustered(1500, 24, 12, 9);
  for (const auto& v : kVariants) {
    CAPTURE(v.size());
    check_against_oracle(d, 150, {}, 4, v);
  }
  const Data img = pixels(800, 49, 10);
  for (const auto& v : kVariants) check_against_oracle(img, 100, {}, 5, v);
}

TEST_CASE("kcenter: identical to brute force on a set large enough to run on two threads") {
  const Data d = clustered(6000, 20, 40, 13);
  check_against_oracle(d, 120, {}, 6);
  check_against_oracle(d, 60, {10, 20, 5999}, 6, {{"sketch-dims", "8"}});
}

TEST_CASE("kcenter: duplicated points and exact ties (lowest index wins, weights to the earlier pick)") {
  for (uint64_t seed : {11u, 12u}) {
    const Data g = grid(300, 3, 3, seed);  // 27 distinct points: every budget beyond that picks duplicates
    check_against_oracle(g, 60, {}, seed);
    check_against_oracle(g, 60, {}, seed, {{"sketch-dims", "2"}});
    const Data c = clustered(600, 10, 5, seed);
    check_against_oracle(c, 80, {}, seed);
  }
  // Every point the same: distance 0 everywhere, picks in index order after the first.
  Data same{50, 4, std::vector<float>(200, 1.5f)};
  const Selection s = run_kcenter(same, 5, {}, 0, {{"init-index", "7"}});
  CHECK(s.indices == std::vector<int64_t>{7, 0, 1, 2, 3});
  CHECK(s.weights == std::vector<float>{50, 0, 0, 0, 0});
  CHECK(s.stats["covering_radius"].get<double>() == 0.0);
  check_against_oracle(same, 5, {}, 0, {{"init-index", "7"}});
}

TEST_CASE("kcenter: already-selected points are covered from, never returned") {
  const Data d = clustered(700, 12, 8, 21);
  const std::vector<int64_t> already = {5, 600, 33, 2};
  for (const auto& v : kVariants) {
    check_against_oracle(d, 50, already, 3, v);
    // init-index is ignored when points are already selected
    auto with_init = v;
    with_init["init-index"] = "9";
    check_against_oracle(d, 50, already, 3, with_init);
  }
  const Selection s = run_kcenter(d, 50, already, 3);
  for (int64_t i : s.indices) CHECK(std::find(already.begin(), already.end(), i) == already.end());
  // Everything selected but one point.
  std::vector<int64_t> all_but_last;
  for (int64_t i = 0; i + 1 < d.n; ++i) all_but_last.push_back(i);
  const Selection last = run_kcenter(d, 1, all_but_last, 0);
  CHECK(last.indices == std::vector<int64_t>{d.n - 1});
  CHECK(last.stats["covering_radius"].get<double>() == 0.0);
}

TEST_CASE("kcenter: the first pick comes from the seed or init-index; weights sum to n") {
  const Data d = gaussian(300, 6, 8);
  const Selection a = run_kcenter(d, 30, {}, 123);
  CHECK(a.indices[0] == static_cast<int64_t>(Rng(123).uniform_index(300)));
  CHECK(std::isinf(a.scores[0]));
  const Selection b = run_kcenter(d, 30, {}, 123, {{"init-index", "17"}});
  CHECK(b.indices[0] == 17);
  double total = 0;
  for (float w : b.weights) total += w;
  CHECK(total == 300.0);
  // scores (distance to the chosen set at pick time) never increase
  for (size_t i = 2; i < b.scores.size(); ++i) CHECK(b.scores[i] <= b.scores[i - 1]);
  CHECK(b.stats["covering_radius"].get<double>() <= b.scores.back());
  // budget = n: every point, radius 0
  const Selection all = run_kcenter(d, 300, {}, 1);
  CHECK(all.stats["covering_radius"].get<double>() == 0.0);
  check_against_oracle(gaussian(60, 3, 1), 60, {}, 1);
}

TEST_CASE("kcenter: bad parameters and values are rejected with the parameter named") {
  const Data d = gaussian(20, 3, 1);
  try {
    run_kcenter(d, 3, {}, 0, {{"init-index", "20"}});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("init-index") != std::string::npos);
  }
  CHECK_THROWS_AS(method("kcenter").params.resolve({{"init-index", "-2"}}), Error);
  CHECK_THROWS_AS(method("kcenter").params.resolve({{"sketch-dims", "-1"}}), Error);
  CHECK_THROWS_AS(method("kcenter").params.resolve({{"quantized-bounds", "maybe"}}), Error);
  ParamMap bogus = method("kcenter").params.resolve({});
  bogus.set("radius", 1.0);
  CHECK_THROWS_AS(make_selector("kcenter", bogus), Error);

  Data bad = d;
  bad.x[7] = std::numeric_limits<float>::quiet_NaN();
  try {
    run_kcenter(bad, 3, {}, 0);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("row 2") != std::string::npos);
  }
  bad.x[7] = std::numeric_limits<float>::infinity();
  CHECK_THROWS_AS(run_kcenter(bad, 3, {}, 0), Error);
}
