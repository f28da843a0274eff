#include "libsubset/select/knn.h"

#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/geometry.h"

namespace subset::select {

namespace knn_detail {

void brute_force_row(const float* x, int64_t n, int64_t d, int64_t q, int64_t k, int64_t* out_idx,
                     double* out_dist) {
  std::vector<std::pair<double, int64_t>> c;
  c.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    if (i != q) c.emplace_back(geometry::sq_dist(x + q * d, x + i * d, d), i);
  std::partial_sort(c.begin(), c.begin() + k, c.end());
  for (int64_t j = 0; j < k; ++j) {
    out_dist[j] = c[static_cast<size_t>(j)].first;
    out_idx[j] = c[static_cast<size_t>(j)].second;
  }
}

}  // namespace knn_detail

namespace {

constexpr int64_t kQueryBlock = 1024;

constexpr int64_t kSlack = 8;  // candidates beyond k + 1, so that most rows are certified

// Row q's k nearest among the m candidates `cand` (negative entries and q skipped) by (exact
// distance, index), written to out_*; returns how many there were before truncation to k.
int64_t nearest_candidates(const float* x, int64_t d, int64_t q, const int64_t* cand, int64_t m, int64_t k,
                           int64_t* out_idx, double* out_dist) {
  std::vector<std::pair<double, int64_t>> c;
  c.reserve(static_cast<size_t>(m));
  for (int64_t j = 0; j < m; ++j) {
    const int64_t i = cand[j];
    if (i < 0 || i == q) continue;
    c.emplace_back(geometry::sq_dist(x + q * d, x + i * d, d), i);
  }
  std::sort(c.begin(), c.end());
  const int64_t found = static_cast<int64_t>(c.size());
  for (int64_t j = 0; j < std::min(k, found); ++j) {
    out_dist[j] = c[static_cast<size_t>(j)].first;
    out_idx[j] = c[static_cast<size_t>(j)].second;
  }
  return found;
}

// Row q's k nearest by (exact distance, index), q itself dropped. `cand` are FAISS's m nearest
// by its float distance, `boundary` the largest of those: every other point y has a float
// distance >= boundary, hence an exact one >= boundary - error. When the k-th exact distance of
// the candidates is below that (with sq_dist's own rounding), they are the answer; otherwise the
// row is searched again exactly, by brute force. Returns whether it was.
bool finish_row(const float* x, int64_t n, int64_t d, int64_t q, const int64_t* cand, int64_t m, double boundary,
                double error, int64_t k, int64_t* out_idx, double* out_dist) {
  const int64_t found = nearest_candidates(x, d, q, cand, m, k, out_idx, out_dist);
  const bool certified =
      m == n || (found >= k && out_dist[k - 1] * (1.0 + 4 * geometry::kDistRelError) < boundary - error);
  if (!certified) knn_detail::brute_force_row(x, n, d, q, k, out_idx, out_dist);
  return !certified;
}

void knn_exact(const float* x, int64_t d, KnnGraph& g) {
  const int64_t n = g.n;
  const int64_t m = std::min(n, g.k + 1 + kSlack);  // + 1: the point itself is among its own nearest

  std::vector<float> norms(static_cast<size_t>(n));
  faiss::fvec_norms_L2sqr(norms.data(), x, static_cast<size_t>(d), static_cast<size_t>(n));
  // FAISS's float ||q||^2 + ||y||^2 - 2 q.y is off by at most about (d + 3) u (||q||^2 + ||y||^2)
  // (sgemm's bound, u = 2^-24, 2|q.y| <= ||q||^2 + ||y||^2); twice that, against the largest ||y||.
  const double max_norm = *std::max_element(norms.begin(), norms.end());
  const double rel = 2.0 * (static_cast<double>(d) + 4.0) * std::ldexp(1.0, -24);
  int64_t rescans = 0;
  const int64_t blocks = (n + kQueryBlock - 1) / kQueryBlock;
  const int threads = static_cast<int>(std::min<int64_t>(std::max(1, omp_get_max_threads()), blocks));
  BlasSingleThread single_blas;
#pragma omp parallel num_threads(threads)
  {
    // FAISS's own parallel loops run inside ours: one thread each, so a block's result is the
    // same whichever thread searches it.
    omp_set_num_threads(1);
    std::vector<float> dist;
    std::vector<int64_t> idx;
#pragma omp for schedule(dynamic, 1) reduction(+ : rescans)
    for (int64_t b = 0; b < blocks; ++b) {
      if (interrupt_requested()) continue;
      const int64_t begin = b * kQueryBlock;
      const int64_t rows = std::min(kQueryBlock, n - begin);
      dist.assign(static_cast<size_t>(rows * m), 0.0f);
      idx.assign(static_cast<size_t>(rows * m), -1);
      faiss::float_maxheap_array_t heap = {static_cast<size_t>(rows), static_cast<size_t>(m), idx.data(),
                                           dist.data()};
      faiss::knn_L2sqr(x + begin * d, x, static_cast<size_t>(d), static_cast<size_t>(rows), static_cast<size_t>(n),
                       &heap, norms.data());
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t q = begin + r;
        const double error = rel * (norms[static_cast<size_t>(q)] + max_norm);
        const float* row_dist = dist.data() + r * m;
        const double boundary = *std::max_element(row_dist, row_dist + m);
        rescans += finish_row(x, n, d, q, idx.data() + r * m, m, boundary, error, g.k,
                              g.indices.data() + q * g.k, g.sq_distances.data() + q * g.k);
      }
    }
  }
  check_interrupted();
  g.rescans = rescans;
}

}  // namespace

KnnSearch parse_knn_search(const std::string& name) {
  if (name == "auto") return KnnSearch::Auto;
  if (name == "exact") return KnnSearch::Exact;
  if (name == "approximate") return KnnSearch::Approximate;
  throw Error("unknown search '" + name + "' (auto, exact, approximate)", "knn");
}

nlohmann::json knn_stats(const KnnGraph& g) {
  nlohmann::json s = {{"search", g.approximate ? "approximate" : "exact"}, {"rescans", g.rescans}};
  if (g.approximate) {
    s["lists"] = g.lists;
    s["probes"] = g.probes;
  }
  return s;
}

KnnGraph knn(const float* x, int64_t n, int64_t d, int64_t k, const KnnOptions& options) {
  SUBSET_CHECK(n >= 1 && d >= 1, "knn", "need at least one point with at least one feature");
  SUBSET_CHECK(k >= 1, "knn", "k must be at least 1, got " << k);
  SUBSET_CHECK(options.lists >= 0 && options.probes >= 0, "knn", "lists and probes must not be negative");
  // FAISS compares float squared distances: bounded values keep every one of them finite.
  geometry::check_values(x, n, d, std::sqrt(1e38 / (4.0 * static_cast<double>(d))), "knn");
  const bool approximate = options.search == KnnSearch::Approximate ||
                           (options.search == KnnSearch::Auto && n > kKnnExactUpTo);
  if (approximate && n > 1) return knn_detail::knn_approximate(x, n, d, k, options);
  KnnGraph g;
  g.n = n;
  g.k = std::min(k, n - 1);
  g.indices.assign(static_cast<size_t>(n * g.k), -1);
  g.sq_distances.assign(static_cast<size_t>(n * g.k), 0.0);
  if (g.k > 0) knn_exact(x, d, g);
  return g;
}

}  // namespace subset::select
