#pragma once
#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// k-center greedy (farthest-first traversal).
//
// The first new pick is `init-index` when given, else Rng(seed).uniform_index(n); when
// already_selected is non-empty, the first new pick is instead the point farthest from that set
// (init-index is then ignored). Every later pick is the point farthest from all points chosen so
// far (already_selected included); ties go to the lowest index.
//
// Distance: geometry::sq_dist (libsubset/select/internal/geometry.h), a squared Euclidean distance
// with float32 differences squared and summed in double in 16 fixed lanes and a fixed final
// reduction. The picks are exactly those of the brute-force loop
//   mind[x] = +inf; for each center c (already_selected in their order, then each pick):
//     for every x: if sq_dist(x, c) < mind[x]: mind[x] = sq_dist(x, c), nearest[x] = c
//     next pick = the unselected x with the largest mind[x], lowest index on ties
// The implementation skips updates that provably cannot change mind[x] (triangle inequality
// through each point's current center, per point and per whole cluster, and lower bounds from a
// low-dimensional PCA sketch), with a safety margin over every rounding error, and never reads
// the rows it skips. Its result is the same at any thread count.
//
// Output: indices in pick order; scores[i] = Euclidean distance of pick i to the points chosen
// before it (+inf for the very first pick when nothing was chosen before); weights[i] = number
// of the n points whose nearest chosen point (ties to the earlier-chosen one, already_selected
// counting first, in their given order) is pick i. Points nearest to an already-selected point
// count for that point, which is not reported, so the weights sum to n only without
// already_selected. stats: covering_radius = max over all points of the Euclidean distance to
// the nearest chosen point (already_selected included) after the last pick, plus pruning counters.
// Features must be finite with |v| <= 1e18 (so that no difference, sum of squares or sketch
// coordinate can overflow).
class KCenterSelector : public Selector {
 public:
  static ParamSchema params();
  explicit KCenterSelector(const ParamMap& params);
  std::string_view name() const override { return "kcenter"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;

 private:
  int64_t init_index_ = -1;
  int64_t sketch_dims_ = 32;
  bool quantized_bounds_ = true;
};

}  // namespace subset::select
