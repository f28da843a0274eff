#pragma once
// k-means: Lloyd's algorithm on all points, seeded by (greedy) k-means++, and the selector that
// returns the real point nearest each centroid, weighted by its cluster's size.
//
// ## Seeding (init = k-means++)
// Centres are real points. With no already-selected points the first centre is
// rng.uniform_index(n); with already-selected points ("fixed" centres) the seeding continues from
// them as if they had been picked first. Each further centre: with D2[x] = squared distance from x
// to its nearest centre so far and total = sum of D2 in index order (double),
//   - draw `trials` candidates, each the first x whose running sum of D2 exceeds
//     rng.uniform01() * total (so points at distance 0, among them every centre, are never drawn);
//   - with trials > 1 ("greedy k-means++", as scikit-learn does by default), keep the candidate
//     whose addition leaves the smallest potential sum_x min(D2[x], d2(x, candidate)), the earliest
//     drawn on ties; with trials == 1 that is plain k-means++ (Arthur & Vassilvitskii, 2007);
//   - if total == 0 (every remaining point coincides with a centre), take instead the
//     rng.uniform_index(m)-th of the m points that are not centres, in index order.
// d2 is geometry::sq_dist (libsubset/select/internal/geometry.h), the exact, thread-count
// independent squared distance kcenter uses. The implementation is exactly this brute-force loop,
// only faster: it skips, with proofs, the distances that cannot lower a D2. A point x whose
// nearest centre c has d(candidate, c) >= 2 d(x, c) cannot get closer to the candidate (triangle
// inequality; d(candidate, c) bounded from below through one sgemm and its error bound), and the
// points of a cluster are kept by decreasing D2, so only a prefix of each is read; the rest are
// tested against a lower bound from a 128-dimensional PCA sketch (geometry::Sketch), and the
// distances still needed stop early once they exceed D2 (partial sums only grow). Safety margins
// cover every rounding error, so the centres are those of the brute-force loop, bit for bit.
//
// ## Lloyd iterations
// Each iteration assigns every point to its nearest centre (fixed centres included; ties to the
// lower column, centroids before fixed points) and moves every centroid to the mean of its points
// (in double; fixed centres never move). The nearest centre comes from ||x||^2 - 2 x.c + ||c||^2
// through BLAS sgemm on fixed blocks of rows (one single-threaded call per block, over the block's
// points that the bounds below leave: the same per-element rounding at any thread count, and
// whether the rows are in memory or read from disk); from the second iteration on, a point
// skips the sgemm when Hamerly-style bounds prove its centre unchanged (its exact distance to its
// centre below a lower bound on its distance to every other: the previous second-nearest
// distance minus how far the others moved, the k/16 (at most 64) centroids that moved most being
// measured exactly), with margins over every rounding error. Distances reported, and the inertia,
// are geometry::sq_dist to the chosen centre. A centroid left with no points is moved to the
// point farthest from its own centre (largest distance first, lowest index on ties, one point
// per empty cluster, never a fixed point). The first assignment after k-means++ comes for free
// from the seeding (exact nearest centres). Stops after `iterations` updates, or earlier when an
// assignment repeats the previous one (converged), or when an iteration lowers the inertia by at
// most `tolerance` times its previous value.
//
// ## Selection
// After the last update every point is assigned once more (this gives the reported inertia and
// the cluster sizes). Then centroid 0, 1, ..., k-1 in turn (seeding order) takes the real point
// nearest to it by geometry::sq_dist (ties to the lowest index), among the points that are
// neither already selected nor taken by an earlier centroid (candidates from the final sgemm
// pass, certified against its error bound, or else a full scan). Weights are the
// cluster sizes: the number of points whose nearest centre is that centroid. They sum to n minus
// the points nearest to an already-selected point (those count for the fixed point, which is not
// returned); without already-selected points they sum to n. A weight can be 0 when the final
// assignment leaves a centroid without points.
//
// ## Features on disk
// With SelectionRequest::on_disk the selector reads the rows in blocks and returns the same
// result, bit for bit, holding per-point state only (internal/kmeans_streamed.h: one pass over
// the data per seeding step, per Lloyd iteration, and for the selection).
#include <cstdint>
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/selector.h"

namespace subset::select {

enum class KMeansInit { PlusPlus, Random };

struct KMeansOptions {
  int64_t k = 1;               // centroids
  int64_t iterations = 20;     // Lloyd updates at most
  KMeansInit init = KMeansInit::PlusPlus;
  int64_t local_trials = 0;    // k-means++ candidates per centre; 0: 2 + floor(ln k)
  double tolerance = 0.0;      // relative inertia decrease that counts as converged; 0: none

  // From a map validated by KMeansSelector::params().
  static KMeansOptions from_params(const ParamMap& params, int64_t k);
  // local_trials with 0 resolved (scikit-learn's rule: 2 + floor(ln k)).
  int64_t trials() const;
};

struct KMeansResult {
  RowMatrixF centroids;                  // k x dim, in seeding order
  std::vector<int64_t> initial;          // the point each centroid started from (k-means++ or random)
  // Nearest centre of each of the n points after the last update: 0..k-1 a centroid, k + s the
  // s-th already-selected (fixed) point.
  std::vector<int32_t> assignment;
  std::vector<int64_t> cluster_sizes;    // k: points assigned to each centroid
  std::vector<int64_t> representatives;  // k: the selection (see the header comment), unique
  double inertia = 0.0;                  // sum over all points of the squared distance to its centre
  double initial_inertia = 0.0;          // the same for the initial centres
  int64_t iterations = 0;                // Lloyd updates applied
  bool converged = false;                // stopped before `iterations` (repeat or tolerance)
  int64_t relocated = 0;                 // empty clusters moved to a far point, over all iterations
  // k-means++ work: point-to-candidate distances computed, and what brute force would compute.
  int64_t seeding_distances = 0;
  int64_t seeding_distances_brute = 0;
  // Representatives that needed a full scan (their nearest candidates were taken or uncertain).
  int64_t representative_scans = 0;
  // Point assignments that Lloyd's bounds settled without the sgemm, over all iterations.
  int64_t points_skipped = 0;
};

// The whole method on n x dim points (finite values, checked). `fixed` are already-selected
// point indices (unique, in range); options.k + fixed.size() <= n.
KMeansResult kmeans_fit(MatrixViewF x, const std::vector<int64_t>& fixed, const KMeansOptions& options,
                        const RunContext& context);

// k-means++ seeding alone: the k new centres (point indices, in order). `trials` as local_trials
// resolved (>= 1).
std::vector<int64_t> kmeanspp_seeds(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed,
                                    Rng& rng);

// Lloyd from given initial centroids (k x dim), then the final assignment and the selection, as in
// kmeans_fit. `initial` of the result is left empty.
KMeansResult kmeans_lloyd(MatrixViewF x, const RowMatrixF& initial_centroids, const std::vector<int64_t>& fixed,
                          int64_t iterations, double tolerance, const RunContext& context);

// The selector: indices = representatives, weights = cluster sizes, stats = inertia, iterations,
// converged, initial_inertia, relocated_clusters, seeding counters.
class KMeansSelector : public Selector {
 public:
  static ParamSchema params();
  explicit KMeansSelector(const ParamMap& params);
  std::string_view name() const override { return "kmeans"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;
  // The fit behind select(), for callers that also want the centroids (--centroids-out).
  KMeansResult fit(const SelectionRequest& request, const RunContext& context) const;
  static Selection to_selection(const KMeansResult& result);

 private:
  KMeansOptions options_;
};

namespace kmeans_detail {
// geometry::sq_dist(a, b, dim) bit for bit when that is below `bound`; otherwise some value
// >= bound (it stops early). Exposed for tests.
double sq_dist_below(const float* a, const float* b, int64_t dim, double bound);
}  // namespace kmeans_detail

}  // namespace subset::select
