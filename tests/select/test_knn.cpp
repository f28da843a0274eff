// Tests for libsubset/select/knn.h. Exact search (FAISS flat): the neighbours and distances equal a
// plain brute force over all pairs (the oracle), ties by index, across query blocks, with
// duplicates and exact ties, the same at 1 and 2 threads; k clamped; bad values refused.
// Approximate search (IVF): recall against the brute force, every distance exact, rows sorted by
// (distance, index), the same at 1 and 2 threads; scanning every list is the brute force; rows whose
// lists are too small fall back to it; auto switches at kKnnExactUpTo.
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

KnnGraph knn_threads(const Data& data, int64_t k, int threads, const KnnOptions& options = {}) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  KnnGraph g = knn(data.x.data(), data.n, data.dim, k, options);
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

TEST_CASE("knn approximate: recall >= 0.9 against brute force, exact distances, the same at 1 and 2 threads") {
  const Data data = subset::test::clustered(3000, 16, 12, 5);
  const int64_t k = 20;
  const KnnGraph want = brute_knn(data, k);
  const KnnOptions approximate{KnnSearch::Approximate, 0, 0};
  const KnnGraph one = knn_threads(data, k, 1, approximate);
  const KnnGraph two = knn_threads(data, k, 2, approximate);
  CHECK(one.approximate);
  CHECK(one.lists == 55);  // round(sqrt(3000))
  CHECK(one.probes == kKnnDefaultProbes);
  CHECK(two.indices == one.indices);
  CHECK(two.sq_distances == one.sq_distances);
  int64_t hits = 0;
  for (int64_t q = 0; q < data.n; ++q) {
    const double kth = want.distances(q)[k - 1];
    for (int64_t t = 0; t < k; ++t) {
      const int64_t i = one.neighbours(q)[t];
      REQUIRE(i != q);
      REQUIRE(i >= 0);
      REQUIRE(i < data.n);
      // Exact (the oracle's value, bit for bit), sorted by (distance, index), no repeats.
      REQUIRE(one.distances(q)[t] == oracle_sq_dist(&data.x[q * data.dim], &data.x[i * data.dim], data.dim));
      if (t > 0) {
        const auto prev = std::make_pair(one.distances(q)[t - 1], one.neighbours(q)[t - 1]);
        REQUIRE(prev < std::make_pair(one.distances(q)[t], i));
      }
      hits += one.distances(q)[t] <= kth ? 1 : 0;
    }
  }
  const double recall = static_cast<double>(hits) / static_cast<double>(data.n * k);
  CHECK(recall >= 0.9);
  CHECK(recall < 1.0);  // approximate indeed: a few probed lists miss neighbours
}

TEST_CASE("knn approximate: probing every list is the brute force; too small lists fall back to it") {
  const Data data = subset::test::grid(600, 3, 3, 7);  // exact ties and duplicates
  const KnnGraph want = brute_knn(data, 10);
  const KnnGraph all = knn(data.x.data(), data.n, data.dim, 10, {KnnSearch::Approximate, 20, 20});
  CHECK(all.approximate);
  CHECK(all.rescans == 0);
  CHECK(all.indices == want.indices);
  CHECK(all.sq_distances == want.sq_distances);
  // One point per list (distinct points: each is its own centroid), one list probed: no row has
  // candidates, every row is searched exactly.
  const Data distinct = subset::test::gaussian(300, 3, 8);
  const KnnGraph lone = knn_threads(distinct, 10, 2, {KnnSearch::Approximate, distinct.n, 1});
  CHECK(lone.rescans == distinct.n);
  CHECK(lone.indices == brute_knn(distinct, 10).indices);
}

TEST_CASE("knn: auto is exact up to kKnnExactUpTo points, approximate beyond; the stats say which") {
  const Data small = subset::test::gaussian(50, 3, 2);
  const KnnGraph exact = knn(small.x.data(), small.n, small.dim, 5);
  CHECK_FALSE(exact.approximate);
  CHECK(knn_stats(exact) == nlohmann::json{{"search", "exact"}, {"rescans", 0}});
  const Data big = subset::test::gaussian(kKnnExactUpTo + 1, 2, 3);
  const KnnGraph g = knn(big.x.data(), big.n, big.dim, 3);
  CHECK(g.approximate);
  CHECK(knn_stats(g) == nlohmann::json{{"search", "approximate"}, {"rescans", g.rescans}, {"lists", g.lists},
                                       {"probes", kKnnDefaultProbes}});
  CHECK(parse_knn_search("exact") == KnnSearch::Exact);
  CHECK_THROWS_AS(parse_knn_search("hnsw"), subset::Error);
  CHECK_THROWS_AS(knn(small.x.data(), small.n, small.dim, 5, {KnnSearch::Approximate, -1, 0}), subset::Error);
}
