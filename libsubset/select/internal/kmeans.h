#pragma once
// What the k-means files (distance, seeding, Lloyd, selector) share; not installed.
#include "libsubset/select/internal/geometry_kernels.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/selector.h"

namespace subset::select::kmeans_internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

inline size_t sz(int64_t v) { return static_cast<size_t>(v); }

using linalg::kExitEvery;  // floats between early-exit checks of linalg::sq_dist_below

// k-means++ seeding (kmeans_seeding.cpp): the new centres, and the exact nearest centre of every
// point at the end (owner indexes (fixed..., seeds...)) with its squared distance.
struct SeedRun {
  std::vector<int64_t> seeds;
  std::vector<int32_t> owner;  // index into (fixed..., seeds...)
  std::vector<double> d2;
  int64_t distances = 0, brute = 0;
};
// `context`, when not null, gets progress reports (seeds so far of progress_total).
SeedRun run_seeding(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed, Rng& rng,
                    const RunContext* context, int64_t progress_total);

// Lloyd (kmeans_lloyd.cpp) from the k x dim initial centroids, then the final assignment and the
// selection; `label`/`dist`, when not empty, are the exact assignment to those centroids. Progress
// goes from progress_done to progress_total in equal steps, one per iteration, and to the total at
// the end (also when it converged early). When progress_seconds > 0 (what the progress_done units
// took), the step and the total are recomputed after the first iteration from its time.
KMeansResult run_lloyd(MatrixViewF x, const std::vector<int64_t>& fixed, const RowMatrixF& initial_centroids,
                       std::vector<int32_t> label, std::vector<double> dist, int64_t iterations, double tolerance,
                       const RunContext& context, int64_t progress_done, int64_t progress_total,
                       double progress_seconds);

// The input checks of every entry point (kmeans.cpp).
void check_input(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k);

}  // namespace subset::select::kmeans_internal
