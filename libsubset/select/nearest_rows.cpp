#include "libsubset/select/nearest_rows.h"

#include <faiss/utils/Heap.h>
#include <faiss/utils/distances.h>

#include <algorithm>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"

namespace subset::select {

NearestRows::NearestRows(const float* queries, int64_t q, int64_t d, int64_t k)
    : queries_(queries, queries + q * d), q_(q), d_(d), k_(k), best_(static_cast<size_t>(q)) {
  SUBSET_CHECK(q >= 1 && d >= 1 && k >= 1, "nearest rows", "needs queries, dimensions and k >= 1");
}

void NearestRows::add(const float* rows, const int64_t* ids, int64_t count) {
  if (count <= 0) return;
  const int64_t m = std::min(k_, count);
  std::vector<float> dist(static_cast<size_t>(q_ * m));
  std::vector<int64_t> pos(static_cast<size_t>(q_ * m), -1);
  faiss::float_maxheap_array_t heap = {static_cast<size_t>(q_), static_cast<size_t>(m), pos.data(), dist.data()};
  {
    // One BLAS thread: the sgemm rounds the same whatever the thread count (FAISS parallelises
    // over queries itself, each query's heap filled in row order).
    BlasSingleThread single_blas;
    faiss::knn_L2sqr(queries_.data(), rows, static_cast<size_t>(d_), static_cast<size_t>(q_),
                     static_cast<size_t>(count), &heap);
  }
  const auto closer = [](const std::pair<float, int64_t>& a, const std::pair<float, int64_t>& b) { return a < b; };
  for (int64_t i = 0; i < q_; ++i) {
    auto& best = best_[static_cast<size_t>(i)];
    for (int64_t j = 0; j < m; ++j) {
      const int64_t p = pos[static_cast<size_t>(i * m + j)];
      if (p >= 0) best.emplace_back(dist[static_cast<size_t>(i * m + j)], ids[p]);
    }
    std::sort(best.begin(), best.end(), closer);
    if (static_cast<int64_t>(best.size()) > k_) best.resize(static_cast<size_t>(k_));
  }
}

std::vector<int64_t> NearestRows::union_ids() const {
  std::vector<int64_t> out;
  for (const auto& best : best_)
    for (const auto& [dist, id] : best) out.push_back(id);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace subset::select
