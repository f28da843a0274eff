// The approximate k-NN graph (knn.h): an inverted-file index (faiss::IndexIVFFlat) whose coarse
// centroids come from our k-means, whose list assignments and probes are computed here with the
// exact distance, and whose lists are scanned here with the exact distance too: FAISS's own
// scanner (faiss::fvec_L2sqr) is the scalar one in the packaged build, several times slower than
// geometry::sq_dist, and its float distances would need re-ranking. Every query's result depends
// on its probed lists alone, so the graph is the same at any thread count.
#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/invlists/InvertedLists.h>
#include <omp.h>

#include <algorithm>
#include <cmath>

#include "libsubset/core/interrupt.h"
#include "libsubset/core/matrix.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/knn.h"

namespace subset::select::knn_detail {
namespace {

constexpr int64_t kTrainPerList = 64;  // k-means sample: this many points per list, at most n
constexpr int64_t kTrainIterations = 10;

// The centroids of the lists: k-means (fixed seed) on an evenly strided sample, so the index is a
// function of the data alone.
RowMatrixF list_centroids(const float* x, int64_t n, int64_t d, int64_t lists) {
  const int64_t s = std::min(n, kTrainPerList * lists);
  RowMatrixF sample(s, d);
  for (int64_t i = 0; i < s; ++i) {
    const auto row = static_cast<int64_t>(static_cast<double>(i) * static_cast<double>(n) / static_cast<double>(s));
    std::copy(x + row * d, x + (row + 1) * d, sample.data() + i * d);
  }
  KMeansOptions o;
  o.k = lists;
  o.iterations = kTrainIterations;
  return kmeans_fit(view(sample), {}, o, RunContext{}).centroids;
}

// The `probes` nearest centroids of every point by (exact distance, index), nearest first.
void nearest_lists(const float* x, int64_t n, int64_t d, const RowMatrixF& centroids, int64_t probes,
                   std::vector<faiss::Index::idx_t>& keys) {
  const int64_t lists = centroids.rows();
  keys.assign(static_cast<size_t>(n * probes), -1);
#pragma omp parallel
  {
    std::vector<std::pair<double, int64_t>> c(static_cast<size_t>(lists));
#pragma omp for schedule(static)
    for (int64_t q = 0; q < n; ++q) {
      for (int64_t l = 0; l < lists; ++l)
        c[static_cast<size_t>(l)] = {geometry::sq_dist(x + q * d, centroids.data() + l * d, d), l};
      std::partial_sort(c.begin(), c.begin() + probes, c.end());
      for (int64_t p = 0; p < probes; ++p) keys[static_cast<size_t>(q * probes + p)] = c[static_cast<size_t>(p)].second;
    }
  }
}

}  // namespace

KnnGraph knn_approximate(const float* x, int64_t n, int64_t d, int64_t k, const KnnOptions& options) {
  KnnGraph g;
  g.n = n;
  g.k = std::min(k, n - 1);
  g.approximate = true;
  g.lists = std::min(n, options.lists > 0 ? options.lists
                                          : std::max<int64_t>(1, std::llround(std::sqrt(static_cast<double>(n)))));
  g.probes = std::min(g.lists, options.probes > 0 ? options.probes : kKnnDefaultProbes);
  g.indices.assign(static_cast<size_t>(n * g.k), -1);
  g.sq_distances.assign(static_cast<size_t>(n * g.k), 0.0);

  const RowMatrixF centroids = list_centroids(x, n, d, g.lists);
  std::vector<faiss::Index::idx_t> keys, assign(static_cast<size_t>(n));
  nearest_lists(x, n, d, centroids, g.probes, keys);
  for (int64_t q = 0; q < n; ++q) assign[static_cast<size_t>(q)] = keys[static_cast<size_t>(q * g.probes)];
  check_interrupted();

  faiss::IndexFlatL2 quantizer(d);
  quantizer.add(g.lists, centroids.data());
  faiss::IndexIVFFlat index(&quantizer, d, static_cast<size_t>(g.lists));
  index.add_core(n, x, nullptr, assign.data());  // each list holds its points in index order
  const faiss::InvertedLists& lists = *index.invlists;

  // Queries list by list (a list's members probe mostly the same lists, which stay in cache),
  // each scanning its probed lists with the exact distance.
  int64_t rescans = 0;
#pragma omp parallel reduction(+ : rescans)
  {
    std::vector<std::pair<double, int64_t>> c;
#pragma omp for schedule(dynamic, 1)
    for (int64_t list = 0; list < g.lists; ++list) {
      if (interrupt_requested()) continue;
      const faiss::Index::idx_t* members = lists.get_ids(static_cast<size_t>(list));
      for (size_t r = 0; r < lists.list_size(static_cast<size_t>(list)); ++r) {
        const int64_t q = members[r];
        c.clear();
        for (int64_t p = 0; p < g.probes; ++p) {
          const auto l = static_cast<size_t>(keys[static_cast<size_t>(q * g.probes + p)]);
          const auto* points = reinterpret_cast<const float*>(lists.get_codes(l));
          const faiss::Index::idx_t* ids = lists.get_ids(l);
          const size_t size = lists.list_size(l);
          for (size_t j = 0; j < size; ++j)
            if (ids[j] != q) c.emplace_back(geometry::sq_dist(x + q * d, points + j * static_cast<size_t>(d), d), ids[j]);
        }
        int64_t* out_idx = g.indices.data() + q * g.k;
        double* out_dist = g.sq_distances.data() + q * g.k;
        if (static_cast<int64_t>(c.size()) < g.k) {  // probed lists too small: that row exactly
          brute_force_row(x, n, d, q, g.k, out_idx, out_dist);
          ++rescans;
          continue;
        }
        std::partial_sort(c.begin(), c.begin() + g.k, c.end());
        for (int64_t j = 0; j < g.k; ++j) {
          out_dist[j] = c[static_cast<size_t>(j)].first;
          out_idx[j] = c[static_cast<size_t>(j)].second;
        }
      }
    }
  }
  check_interrupted();
  g.rescans = rescans;
  return g;
}

}  // namespace subset::select::knn_detail
