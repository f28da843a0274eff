#pragma once
// k-nearest-neighbour graph of a point set, through FAISS (used by typiclust and probcover).
//
// Exact search: faiss::knn_L2sqr, what faiss::IndexFlatL2::search runs (one sgemm per block of
// queries and database rows, then a heap per query), without copying the data into an index. The
// queries are cut into fixed blocks of 1024 rows, each searched by one of our OpenMP threads with
// FAISS's own parallelism and the BLAS single-threaded inside it, so a block's result does not
// depend on the thread count. FAISS returns k + 9 candidates by its float distance
// ||x||^2 + ||y||^2 - 2 x.y; their distances are recomputed exactly (geometry::sq_dist, the
// distance kcenter and kmeans use) and sorted by (exact distance, index), the point itself
// dropped. The result is certified against a bound on FAISS's rounding error (every point left out
// is provably farther than the k-th kept); a row that is not (near-ties at the k-th neighbour,
// duplicates) is searched again by brute force. So the graph is that of the brute-force loop:
// the k smallest (sq_dist, index) pairs of each row.
//
// Cost: n^2 d multiply-adds in sgemm (figures for n = 60000 in docs/benchmarks.md); no
// approximate index is used.
#include <cstdint>
#include <vector>

namespace subset::select {

struct KnnGraph {
  int64_t n = 0;
  int64_t k = 0;
  std::vector<int64_t> indices;     // n x k, row i: the neighbours of point i, nearest first
  std::vector<double> sq_distances;  // n x k, their squared Euclidean distances (exact)
  int64_t rescans = 0;               // rows FAISS's candidates did not certify (searched by brute force)
  const int64_t* neighbours(int64_t i) const { return indices.data() + i * k; }
  const double* distances(int64_t i) const { return sq_distances.data() + i * k; }
};

// The k nearest neighbours of each of the n points (n x d, row-major) among the others, ties by
// index; k is clamped to n - 1. Uses omp_get_max_threads() threads; the same result at any count.
// Values must be finite (geometry::check_values).
KnnGraph knn(const float* x, int64_t n, int64_t d, int64_t k);

}  // namespace subset::select
