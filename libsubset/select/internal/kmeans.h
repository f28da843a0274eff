#pragma once
// What the k-means files (distance, seeding, Lloyd, selector) share; not installed.
#include "libsubset/select/internal/geometry_kernels.h"

#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "libsubset/core/interrupt.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/selector.h"

namespace subset::select::kmeans_internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

inline size_t sz(int64_t v) { return static_cast<size_t>(v); }

using linalg::kExitEvery;  // floats between early-exit checks of linalg::sq_dist_below

// A point x whose nearest centre c has sq_dist(cand, c) >= kPrune * D2[x] is provably no closer to
// the candidate than to c: d(cand, c) >= 2 (1 + margin) d(x, c), and the margin is far above the
// relative error of sq_dist (geometry.h), so the brute-force comparison would also keep c.
inline constexpr double kPrune = 4.0 * (1.0 + geometry::kPruneMargin) * (1.0 + geometry::kPruneMargin);
// Members per task of a seeding step. Each task sums its members' gains in member order and the
// step adds the tasks' sums in task order: both seedings (in memory, streamed) add in that order.
inline constexpr size_t kTaskPoints = 512;

// k-means++ seeding (kmeans_seeding.cpp): the new centres, and the exact nearest centre of every
// point at the end (owner indexes (fixed..., seeds...)) with its squared distance.
struct SeedRun {
  std::vector<int64_t> seeds;
  std::vector<int32_t> owner;  // index into (fixed..., seeds...)
  std::vector<double> d2;
  int64_t distances = 0, brute = 0;
};
// Lower bounds bcc (L x C) on the squared distances between L candidate rows and C centre rows
// (row-major, d values; norms in double): ||c||^2 + ||m||^2 - 2 c.m with the dot products from one
// single-threaded sgemm (the same rounding at any thread count), minus a bound on its rounding
// error (any summation order: |error| <= d u |c| |m|) with a factor 2 to spare. `dots` is scratch.
void candidate_centre_bounds(const float* cand_rows, const std::vector<double>& cand_norm, const float* centre_rows,
                             const std::vector<double>& centre_norm, int64_t d, std::vector<float>& dots,
                             std::vector<double>& bcc);

// The k-means++ draws shared by the in-memory and the streamed seeders (kmeans.h defines them):
// the first centre (or the fixed ones), then per centre `trials` candidates drawn by D² and the one
// choose(candidates, total) returns (its position in the list) committed. Fills seeds and brute.
template <typename Seeder, typename Choose>
void draw_seeds(Seeder& s, int64_t n, int64_t k, int64_t trials, const std::vector<int64_t>& fixed, Rng& rng,
                const RunContext* context, int64_t progress_total, Choose choose, SeedRun& out) {
  if (fixed.empty()) {
    const auto c0 = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(n)));
    s.start(c0);
    out.seeds.push_back(c0);
  } else {
    s.start(fixed[0]);
    for (size_t f = 1; f < fixed.size(); ++f) s.add(fixed[f]);
  }
  out.brute += n * static_cast<int64_t>(fixed.empty() ? 1 : fixed.size());
  std::vector<int64_t> cands;
  std::vector<std::pair<double, int64_t>> draws;
  while (static_cast<int64_t>(out.seeds.size()) < k) {
    check_interrupted();
    if (context) context->report(static_cast<int64_t>(out.seeds.size()), progress_total);
    const double total = s.total();
    if (!(total > 0.0)) {
      // Every point coincides with a centre: a uniform non-centre point.
      const int64_t m = n - static_cast<int64_t>(s.centres().size());
      auto r = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(m)));
      int64_t pick = -1;
      for (int64_t i = 0; i < n && pick < 0; ++i)
        if (!s.is_centre(i) && r-- == 0) pick = i;
      s.add(pick);
      out.seeds.push_back(pick);
      continue;
    }
    draws.clear();
    for (int64_t l = 0; l < trials; ++l) draws.push_back({rng.uniform01() * total, l});
    std::sort(draws.begin(), draws.end());
    cands.assign(static_cast<size_t>(trials), -1);
    {
      double cum = 0.0;
      size_t p = 0;
      const auto& d2 = s.d2();
      for (int64_t i = 0; i < n && p < draws.size(); ++i) {
        cum += d2[static_cast<size_t>(i)];
        while (p < draws.size() && draws[p].first < cum) cands[static_cast<size_t>(draws[p++].second)] = i;
      }
      // cum ends exactly at total > every draw, so every draw found its point.
    }
    const int64_t best = choose(cands, total);
    out.brute += n * trials;
    s.commit(best);
    out.seeds.push_back(cands[static_cast<size_t>(best)]);
  }
}

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

// The input checks of every entry point (kmeans.cpp): check_shape, then every value finite and
// within value_limit(d) (geometry::check_values), so that squares of differences and GEMM
// products stay finite in float.
void check_input(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k);
void check_shape(int64_t n, int64_t d, const std::vector<int64_t>& fixed, int64_t k);
double value_limit(int64_t d);
// The checks of KMeansOptions (kmeans_fit's, after check_input).
void check_options(const KMeansOptions& o);

// Lloyd's first assignment from the seeding's: seeding centres are (fixed..., seeds...), Lloyd's
// columns (seeds..., fixed...).
void labels_from_seeding(const SeedRun& seeding, int64_t fixed, int64_t k, std::vector<int32_t>& label,
                         std::vector<double>& dist);

}  // namespace subset::select::kmeans_internal
