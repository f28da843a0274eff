// NearestRows (select/nearest_rows.h) against a brute-force search, whatever the blocks.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/nearest_rows.h"

using subset::select::NearestRows;

namespace {

// Integer coordinates below 1000 in 4 dimensions: every squared distance and every term of FAISS's
// expansion is an integer under 2^24, exact in float, so the oracle's order is the search's.
std::vector<float> integer_points(int64_t n, int64_t d, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_int_distribution<int> coord(0, 999);
  std::vector<float> x(static_cast<size_t>(n * d));
  for (float& v : x) v = static_cast<float>(coord(gen));
  return x;
}

std::vector<std::pair<double, int64_t>> brute(const std::vector<float>& q, int64_t qi, const std::vector<float>& x,
                                              const std::vector<int64_t>& ids, int64_t d) {
  std::vector<std::pair<double, int64_t>> all;
  for (size_t r = 0; r < ids.size(); ++r) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) {
      const double diff = static_cast<double>(q[static_cast<size_t>(qi * d + j)]) - x[r * static_cast<size_t>(d) + static_cast<size_t>(j)];
      s += diff * diff;
    }
    all.emplace_back(s, ids[r]);
  }
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

TEST_CASE("nearest rows: the k nearest of a stream equal brute force, in any blocks") {
  const int64_t d = 4, n = 500, q = 6, k = 9;
  const std::vector<float> x = integer_points(n, d, 3), queries = integer_points(q, d, 4);
  std::vector<int64_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ids[static_cast<size_t>(i)] = 1000 + 3 * i;  // ids are not positions
  for (const int64_t block : {int64_t{1}, int64_t{7}, int64_t{64}, n}) {
    CAPTURE(block);
    NearestRows nearest(queries.data(), q, d, k);
    for (int64_t first = 0; first < n; first += block)
      nearest.add(x.data() + first * d, ids.data() + first, std::min(block, n - first));
    std::set<int64_t> expected_union;
    for (int64_t i = 0; i < q; ++i) {
      const auto want = brute(queries, i, x, ids, d);
      const auto& got = nearest.neighbours(i);
      REQUIRE(static_cast<int64_t>(got.size()) == k);
      for (int64_t j = 0; j < k; ++j) {
        CHECK(got[static_cast<size_t>(j)].first == doctest::Approx(want[static_cast<size_t>(j)].first));
        // Ties with the (k+1)-th may go either way; strictly nearer rows must be these.
        if (want[static_cast<size_t>(j)].first < want[static_cast<size_t>(k)].first)
          CHECK(got[static_cast<size_t>(j)].second == want[static_cast<size_t>(j)].second);
        expected_union.insert(got[static_cast<size_t>(j)].second);
      }
    }
    const std::vector<int64_t> u = nearest.union_ids();
    CHECK(std::set<int64_t>(u.begin(), u.end()) == expected_union);
    CHECK(std::is_sorted(u.begin(), u.end()));
  }
}

TEST_CASE("nearest rows: fewer rows than k, and bad shapes refused") {
  const std::vector<float> queries = {0, 0}, rows = {1, 0, 3, 0};
  const std::vector<int64_t> ids = {10, 11};
  NearestRows nearest(queries.data(), 1, 2, 5);
  nearest.add(rows.data(), ids.data(), 2);
  REQUIRE(nearest.neighbours(0).size() == 2);
  CHECK(nearest.neighbours(0)[0] == std::pair<float, int64_t>{1.0f, 10});
  CHECK(nearest.neighbours(0)[1] == std::pair<float, int64_t>{9.0f, 11});
  CHECK_THROWS_AS(NearestRows(queries.data(), 1, 2, 0), subset::Error);
  CHECK_THROWS_AS(NearestRows(queries.data(), 0, 2, 3), subset::Error);
}
