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
// Cost: n^2 d multiply-adds in sgemm and n^2 heap updates: at d = 64, k = 20, about 1 CPU second
// at n = 20000 and 8 at n = 60000 (docs/benchmarks.md, bench_knn).
//
// Approximate search (knn_approximate.cpp), beyond kKnnExactUpTo points by default: an
// inverted-file index, faiss::IndexIVFFlat with round(sqrt(n)) lists. Its centroids are our
// k-means (kmeans.h, fixed seed, 10 iterations) on an evenly strided sample of 64 points per list;
// every point goes to its nearest centroid and probes its `probes` nearest (exact distances, ties
// by index); a point's neighbours are the k nearest by (sq_dist, index) among the other points of
// its probed lists, so every distance is exact and only neighbours in unprobed lists are missed.
// Probed lists holding fewer than k other points: that row by brute force (counted in rescans).
// Each row depends on the data alone: the same graph at any thread count. HNSW (FAISS's
// IndexHNSWFlat) was measured too: its build alone took longer than the exact search at
// n = 60000, and its graph depends on the insertion threads.
// Recall@20 against the exact graph with 8 probes (kKnnDefaultProbes), Fashion-MNIST: 0.991 at
// n = 60000, d = 64 (PCA) in about 2 CPU seconds against 8 for the exact search; 0.991 at
// n = 20000, d = 784 (pixels). 4 probes give about 0.95.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace subset::select {

// Which search builds the graph. Auto: exact up to kKnnExactUpTo points, approximate beyond.
enum class KnnSearch { Auto, Exact, Approximate };

// Where the exact search stops being cheap (measured, docs/benchmarks.md): beyond it, at d = 64 and
// k = 20, it costs more than a CPU second and grows as n^2, while the approximate one is already
// faster (about 0.65 s at n = 20000) and grows as n^1.5.
inline constexpr int64_t kKnnExactUpTo = 20000;

struct KnnOptions {
  KnnSearch search = KnnSearch::Auto;
  int64_t lists = 0;   // IVF lists; 0: round(sqrt(n)), at most n
  int64_t probes = 0;  // lists scanned per query; 0: kKnnDefaultProbes (at most the lists)
};

// Probes for recall@20 >= 0.95 with margin (0.99 measured, above) with round(sqrt(n)) lists.
inline constexpr int64_t kKnnDefaultProbes = 8;

struct KnnGraph {
  int64_t n = 0;
  int64_t k = 0;
  std::vector<int64_t> indices;     // n x k, row i: the neighbours of point i, nearest first
  std::vector<double> sq_distances;  // n x k, their squared Euclidean distances (exact)
  // Exact: rows FAISS's candidates did not certify; approximate: rows whose probed lists held
  // fewer than k other points. Both searched by brute force.
  int64_t rescans = 0;
  bool approximate = false;  // which search built it, and with what
  int64_t lists = 0;         // approximate only
  int64_t probes = 0;        // approximate only
  const int64_t* neighbours(int64_t i) const { return indices.data() + i * k; }
  const double* distances(int64_t i) const { return sq_distances.data() + i * k; }
};

// The k nearest neighbours of each of the n points (n x d, row-major) among the others, ties by
// index; k is clamped to n - 1. Uses omp_get_max_threads() threads; the same result at any count.
// Values must be finite (geometry::check_values).
KnnGraph knn(const float* x, int64_t n, int64_t d, int64_t k, const KnnOptions& options = {});

// "auto", "exact", "approximate" (the choices of the methods' `knn` parameter).
KnnSearch parse_knn_search(const std::string& name);
// What a method's stats record about its graph: {"search": "exact" | "approximate", "rescans",
// and for the approximate one "lists", "probes"}.
nlohmann::json knn_stats(const KnnGraph& g);

namespace knn_detail {
// The approximate search on validated input (knn() with search = Approximate).
KnnGraph knn_approximate(const float* x, int64_t n, int64_t d, int64_t k, const KnnOptions& options);
// Row q by brute force over all n points.
void brute_force_row(const float* x, int64_t n, int64_t d, int64_t q, int64_t k, int64_t* out_idx,
                     double* out_dist);
}  // namespace knn_detail

}  // namespace subset::select
