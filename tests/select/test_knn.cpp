// Tests for libsubset/select/knn.h (FAISS exact search): the neighbours and distances equal a plain
// brute force over all pairs (the oracle), ties by index, across query blocks, with duplicates and
// exact ties, the same at 1 and 2 threads; k clamped; bad values refused.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/knn.h"
#include "support/oracle_distance.h"
#include "support/point_sets.h"

using namespace subset::select;
using subset::test::Data;
using subset::test::oracle_sq_dist;

namespace {

KnnGraph brute_knn(const Data& data, int64_t k) {
  KnnGraph g;
  g.n = data.n;
  g.k = std::min(k, data.n - 1);
  for (int64_t q = 0; q < data.n; ++q) {
    std::vector<std::pair<double, int64_t>> all;
    for (int64_t i = 0; i < data.n; ++i)
      if (i != q) all.emplace_back(oracle_sq_dist(&data.x[q * data.dim], &data.x[i * data.dim], data.dim), i);
    std::sort(all.begin(), all.end());
    for (int64_t j = 0; j < g.k; ++j) {
      g.indices.push_back(all[static_cast<size_t>(j)].second);
      g.sq_distances.push_back(all[static_cast<size_t>(j)].first);
    }
  }
  return g;
}

KnnGraph knn_threads(const Data& data, int64_t k, int threads) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  KnnGraph g = knn(data.x.data(), data.n, data.dim, k);
  omp_set_num_threads(before);
  return g;
}

}  // namespace

TEST_CASE("knn: FAISS's exact search equals brute force, ties by index, at 1 and 2 threads") {
  const std::vector<Data> sets = {subset::test::gaussian(1500, 20, 1),    // two query blocks
                                  subset::test::clustered(700, 64, 9, 2),  // duplicates
                                  subset::test::grid(1300, 6, 3, 3),       // exact ties everywhere
                                  subset::test::pixels(300, 784, 4)};
  for (const auto& data : sets) {
    CAPTURE(data.n);
    CAPTURE(data.dim);
    for (int64_t k : {int64_t{1}, int64_t{20}}) {
      const KnnGraph want = brute_knn(data, k);
      const KnnGraph one = knn_threads(data, k, 1);
      const KnnGraph two = knn_threads(data, k, 2);
      CHECK(one.k == k);
      CHECK(one.indices == want.indices);
      CHECK(one.sq_distances == want.sq_distances);
      CHECK(two.indices == one.indices);
      CHECK(two.sq_distances == one.sq_distances);
    }
  }
}

TEST_CASE("knn: k is clamped to the other points, and the point itself is never its neighbour") {
  const Data data = subset::test::grid(5, 2, 2, 5);  // 5 points on {0,1}^2: duplicates
  const KnnGraph g = knn(data.x.data(), data.n, data.dim, 10);
  CHECK(g.k == 4);
  for (int64_t q = 0; q < g.n; ++q)
    for (int64_t t = 0; t < g.k; ++t) CHECK(g.neighbours(q)[t] != q);
  CHECK(brute_knn(data, 10).indices == g.indices);
  const KnnGraph lone = knn(data.x.data(), 1, data.dim, 3);
  CHECK(lone.k == 0);
  CHECK(lone.indices.empty());
}

TEST_CASE("knn: non-finite or too large values and k < 1 are refused") {
  std::vector<float> x = {0.0f, 1.0f, std::numeric_limits<float>::quiet_NaN(), 2.0f};
  CHECK_THROWS_AS(knn(x.data(), 2, 2, 1), subset::Error);
  x[2] = 1e30f;
  CHECK_THROWS_AS(knn(x.data(), 2, 2, 1), subset::Error);
  x[2] = 3.0f;
  CHECK_THROWS_AS(knn(x.data(), 2, 2, 0), subset::Error);
  CHECK_NOTHROW(knn(x.data(), 2, 2, 1));
}
