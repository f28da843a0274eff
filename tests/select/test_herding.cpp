// Tests for libsubset/select/herding.h: the picks and scores equal those of a plain brute-force
// herding written below (the oracle) on random data of several shapes, with duplicated points,
// exact ties and already-selected points, at 1 and 2 threads and with the 8-bit bounds on or off;
// the mean gap falls far below random subsets'; parameter errors.
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
  std::vector<float> scores;
  double gap = 0.0;
};

// Brute-force herding exactly as herding.h defines it: the target t = (k+1) mean - sum rounded
// to float, the unchosen point nearest to it (lowest index on ties).
Expected oracle_herding(const std::vector<float>& x, int64_t n, int64_t dim, const std::vector<int64_t>& already,
                        int64_t budget) {
  std::vector<double> mean(static_cast<size_t>(dim), 0.0), sum(static_cast<size_t>(dim), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < dim; ++j) mean[static_cast<size_t>(j)] += x[static_cast<size_t>(i * dim + j)];
  for (auto& m : mean) m /= static_cast<double>(n);
  std::vector<bool> chosen(static_cast<size_t>(n), false);
  auto add = [&](int64_t i) {
    chosen[static_cast<size_t>(i)] = true;
    for (int64_t j = 0; j < dim; ++j) sum[static_cast<size_t>(j)] += x[static_cast<size_t>(i * dim + j)];
  };
  for (int64_t a : already) add(a);
  auto k = static_cast<int64_t>(already.size());
  Expected e;
  std::vector<float> t(static_cast<size_t>(dim));
  for (int64_t b = 0; b < budget; ++b, ++k) {
    for (int64_t j = 0; j < dim; ++j)
      t[static_cast<size_t>(j)] =
          static_cast<float>(static_cast<double>(k + 1) * mean[static_cast<size_t>(j)] - sum[static_cast<size_t>(j)]);
    int64_t best = -1;
    double best_value = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      if (chosen[static_cast<size_t>(i)]) continue;
      const double v = oracle_sq_dist(&x[static_cast<size_t>(i * dim)], t.data(), dim);
      if (best < 0 || v < best_value) {
        best = i;
        best_value = v;
      }
    }
    e.picks.push_back(best);
    e.scores.push_back(static_cast<float>(std::sqrt(best_value) / static_cast<double>(k + 1)));
    add(best);
  }
  double g = 0.0;
  for (int64_t j = 0; j < dim; ++j) {
    const double diff = mean[static_cast<size_t>(j)] - sum[static_cast<size_t>(j)] / static_cast<double>(k);
    g += diff * diff;
  }
  e.gap = std::sqrt(g);
  return e;
}


Selection run_herding(const Data& d, int64_t budget, std::vector<int64_t> already,
                      const std::map<std::string, std::string>& params = {}, int threads = 2) {
  const auto selector = make_selector("herding", method("herding").params.resolve(params));
  SelectionRequest r;
  r.n = d.n;
  r.dim = d.dim;
  r.features = d.x.data();
  r.budget = budget;
  r.already_selected = std::move(already);
  validate_request(method("herding"), r);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  Selection s = selector->select(r, RunContext{42, {}});
  omp_set_num_threads(before);
  return s;
}

void check_against_oracle(const Data& d, int64_t budget, const std::vector<int64_t>& already = {}) {
  const Expected e = oracle_herding(d.x, d.n, d.dim, already, budget);
  for (const char* bounds : {"true", "false"}) {
    CAPTURE(bounds);
    const Selection one = run_herding(d, budget, already, {{"quantized-bounds", bounds}}, 1);
    const Selection two = run_herding(d, budget, already, {{"quantized-bounds", bounds}}, 2);
    CHECK(one.indices == e.picks);
    CHECK(one.scores == e.scores);
    CHECK(one.weights.empty());
    CHECK(one.stats["mean_gap"].get<double>() == e.gap);
    CHECK(two.indices == one.indices);
    CHECK(two.scores == one.scores);
    CHECK(two.stats == one.stats);
  }
}

double random_gap(const Data& d, int64_t k, uint64_t seed) {
  Rng rng(seed);
  std::vector<int64_t> idx(static_cast<size_t>(d.n));
  for (int64_t i = 0; i < d.n; ++i) idx[static_cast<size_t>(i)] = i;
  for (int64_t i = d.n - 1; i > 0; --i)
    std::swap(idx[static_cast<size_t>(i)], idx[rng.uniform_index(static_cast<uint64_t>(i + 1))]);
  double g = 0.0;
  for (int64_t j = 0; j < d.dim; ++j) {
    double all = 0.0, sub = 0.0;
    for (int64_t i = 0; i < d.n; ++i) all += d.x[static_cast<size_t>(i * d.dim + j)];
    for (int64_t i = 0; i < k; ++i) sub += d.x[static_cast<size_t>(idx[static_cast<size_t>(i)] * d.dim + j)];
    const double diff = all / static_cast<double>(d.n) - sub / static_cast<double>(k);
    g += diff * diff;
  }
  return std::sqrt(g);
}

}  // namespace

TEST_CASE("herding: the 8-bit dot product kernels are exact") {
  for (int level : {0, 1, 2}) {
    CAPTURE(level);
    geometry::limit_kernels_for_testing(level);
    Rng rng(3);
    for (int64_t dim : {1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 784, 3583, 3584, 3585, 5000}) {
      CAPTURE(dim);
      const int64_t rows = 7;
      std::vector<uint8_t> q(static_cast<size_t>(rows * dim));
      std::vector<int16_t> t(static_cast<size_t>(dim));
      for (int extreme = 0; extreme < 2; ++extreme) {
        for (auto& v : q) v = extreme ? 255 : static_cast<uint8_t>(rng.uniform_index(256));
        for (auto& v : t)
          v = static_cast<int16_t>(extreme
                                       ? (rng.uniform_index(2) ? geometry::kMaxTargetLevel : -geometry::kMaxTargetLevel)
                                       : static_cast<int64_t>(rng.uniform_index(2 * geometry::kMaxTargetLevel + 1)) -
                                             geometry::kMaxTargetLevel);
        std::vector<int64_t> a(static_cast<size_t>(rows)), b(static_cast<size_t>(rows));
        geometry::dot_u8_i16_rows(q.data(), rows, dim, t.data(), a.data());
        geometry::dot_u8_rows(q.data(), rows, dim, geometry::TargetLevels(t.data(), dim), b.data());
        for (int64_t r = 0; r < rows; ++r) {
          int64_t exact = 0, exact8 = 0;
          for (int64_t j = 0; j < dim; ++j) {
            exact += int64_t{q[static_cast<size_t>(r * dim + j)]} * t[static_cast<size_t>(j)];
            exact8 += int64_t{q[static_cast<size_t>(r * dim + j)]} * q[static_cast<size_t>(j)];
          }
          CHECK(a[static_cast<size_t>(r)] == exact);
          CHECK(b[static_cast<size_t>(r)] == exact);
          CHECK(geometry::dot_u8_u8(&q[static_cast<size_t>(r * dim)], q.data(), dim) == static_cast<double>(exact8));
        }
      }
    }
  }
  geometry::limit_kernels_for_testing(0);
}

TEST_CASE("herding: identical to brute force on random data, several seeds and shapes") {
  for (uint64_t seed : {1u, 2u, 3u}) {
    CAPTURE(seed);
    check_against_oracle(gaussian(300, 7, seed), 60);
    check_against_oracle(gaussian(200, 33, seed + 10), 50);
    check_against_oracle(gaussian(150, 1, seed + 20), 40);
    check_against_oracle(pixels(400, 49, seed + 30), 80);
  }
  // far from the origin: the 8-bit copy's error is large against the spread
  check_against_oracle(gaussian(300, 16, 5, 0.01, 1000.0), 50);
}

TEST_CASE("herding: identical to brute force on a set large enough to run on two threads") {
  check_against_oracle(pixels(6000, 30, 14), 40);
  check_against_oracle(grid(5000, 4, 3, 15), 40, {1, 2, 3});
}

TEST_CASE("herding: every kernel level gives the same picks") {
  for (int level : {1, 2}) {
    CAPTURE(level);
    geometry::limit_kernels_for_testing(level);
    check_against_oracle(pixels(5000, 45, 21), 30);
    check_against_oracle(gaussian(300, 17, 22), 30, {4});
  }
  geometry::limit_kernels_for_testing(0);
}

TEST_CASE("herding: duplicated points and exact ties go to the lowest index") {
  for (uint64_t seed : {4u, 5u}) {
    const Data g = grid(250, 3, 2, seed);  // 8 distinct points, each many times
    check_against_oracle(g, 100);
  }
  Data same{30, 5, std::vector<float>(150, -2.0f)};
  const Selection s = run_herding(same, 4, {});
  CHECK(s.indices == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(s.stats["mean_gap"].get<double>() == 0.0);
  check_against_oracle(same, 4);
}

TEST_CASE("herding: already-selected points count in the mean and are never returned") {
  const Data d = pixels(500, 20, 8);
  const std::vector<int64_t> already = {3, 499, 250, 17, 18};
  check_against_oracle(d, 60, already);
  const Selection s = run_herding(d, 60, already);
  for (int64_t i : s.indices) CHECK(std::find(already.begin(), already.end(), i) == already.end());
  // budget = every remaining point
  check_against_oracle(gaussian(40, 4, 2), 35, {0, 1, 2, 3, 4});
}

TEST_CASE("herding: the mean gap falls far below that of random subsets") {
  const Data d = gaussian(3000, 20, 12);
  const Selection s = run_herding(d, 100, {});
  double random = 0.0;
  for (uint64_t seed = 0; seed < 10; ++seed) random += random_gap(d, 100, seed) / 10.0;
  const double gap = s.stats["mean_gap"].get<double>();
  CHECK(gap < random / 10.0);
  // the gap right after each pick (the score) is that of the prefix, and it shrinks
  CHECK(s.scores.back() == doctest::Approx(gap).epsilon(1e-5));
  CHECK(s.scores[99] < s.scores[9]);
  CHECK(s.scores[9] < s.scores[0]);
}

TEST_CASE("herding: bad parameters and values are rejected") {
  CHECK_THROWS_AS(method("herding").params.resolve({{"quantized-bounds", "2"}}), Error);
  ParamMap bogus = method("herding").params.resolve({});
  bogus.set("init-index", int64_t{0});
  CHECK_THROWS_AS(make_selector("herding", bogus), Error);
  Data bad = gaussian(10, 2, 1);
  bad.x[5] = std::numeric_limits<float>::infinity();
  try {
    run_herding(bad, 2, {});
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("row 2") != std::string::npos);
  }
  bad.x[5] = 1e30f;  // beyond the 1e18 the target's float rounding allows
  CHECK_THROWS_AS(run_herding(bad, 2, {}), Error);
}
