#pragma once
// The k nearest of a stream of rows to each of a few query points, for candidate pools too large
// to hold (`al query --candidates-by neighbours`: SEALS, Coleman et al. 2022, restricts the rows an
// active-learning round scores to the nearest neighbours of the labelled ones). Rows arrive in
// blocks with their ids; each query keeps its k smallest (squared distance, id) pairs, so memory is
// q x k pairs plus the caller's block.
//
// Distances are FAISS's flat-search ones (||x||^2 + ||y||^2 - 2 x.y in float, one sgemm per block
// on one BLAS thread), ordered by them and then by id (an exact tie at a block's k-th place is
// broken as FAISS's heap breaks it): the same result at any thread count, not certified against
// brute force as knn.h's graph is (a candidate pool does not need the exact k-th neighbour).
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace subset::select {

class NearestRows {
 public:
  // queries: q x d, row-major, copied; k >= 1.
  NearestRows(const float* queries, int64_t q, int64_t d, int64_t k);
  // Offers `count` rows (count x d, row-major) with their ids (distinct from every earlier id).
  void add(const float* rows, const int64_t* ids, int64_t count);
  // Query i's neighbours so far, nearest first: (squared distance, id), at most k.
  const std::vector<std::pair<float, int64_t>>& neighbours(int64_t i) const { return best_[static_cast<size_t>(i)]; }
  // The ids that are among some query's neighbours, ascending, each once.
  std::vector<int64_t> union_ids() const;

 private:
  std::vector<float> queries_;
  int64_t q_, d_, k_;
  std::vector<std::vector<std::pair<float, int64_t>>> best_;
};

}  // namespace subset::select
