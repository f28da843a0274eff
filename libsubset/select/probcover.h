#pragma once
// ProbCover (Yehuda, Dekel, Hacohen & Weinshall, "Active learning through a covering lens",
// NeurIPS 2022): greedy maximum coverage of delta-balls.
//
// Graph: the k-nearest-neighbour graph (knn.h, k = `neighbours`; `knn` chooses the search: exact
// up to kKnnExactUpTo points, approximate beyond, by default); the ball of x is x itself and
// its neighbours y with ||x - y|| < delta. (The paper takes every point within delta; here a ball
// holds at most k + 1 points, which bounds memory and time at n (k + 1).)
// Greedy: the balls of already-selected points count as covered; each step picks the open point
// whose ball holds the most uncovered points (ties to the lowest index) and covers its ball. When
// no open point covers anything new, the rest of the budget is drawn uniformly from the open
// points (Rng(seed)), as the paper's code does.
//
// delta, when not given (0), by the paper's purity rule, computed exactly on the graph:
// pseudo-labels from k-means (kmeans.h, `purity-clusters` clusters: by default the number of
// classes of the labels); a ball is pure when all its points share x's pseudo-label, i.e. when
// delta <= r(x), the distance from x to its nearest graph neighbour with another pseudo-label
// (+inf when none). delta is the largest value with at least `purity` (alpha, 0.95) of the balls
// pure: the ceil(alpha n)-th largest r(x). When that is +inf (the graph is too short to see any
// impurity there), every graph edge is used (delta = +inf; stats.delta_capped = true).
//
// Output: indices in pick order; scores = the number of points each pick newly covered (0 for the
// random draws). stats: delta (the largest edge used when capped), delta_capped, purity (the
// fraction of pure balls at delta, or null when delta is given), coverage (fraction of the n
// points covered at the end), knn (knn_stats: the search used and its settings).
#include "libsubset/core/params.h"
#include "libsubset/select/knn.h"
#include "libsubset/select/selector.h"

namespace subset::select {

class ProbCoverSelector : public Selector {
 public:
  static ParamSchema params();
  explicit ProbCoverSelector(const ParamMap& params);
  std::string_view name() const override { return "probcover"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;

 private:
  int64_t neighbours_ = 20;
  double delta_ = 0.0;
  double purity_ = 0.95;
  int64_t purity_clusters_ = 0;
  int64_t iterations_ = 20;
  KnnOptions knn_;
};

namespace probcover_detail {
// The purity rule on a graph with pseudo-labels: delta (+inf when capped) and the fraction of pure
// balls at that delta.
std::pair<double, double> purity_delta(const KnnGraph& g, const std::vector<int32_t>& pseudo, double alpha);
}  // namespace probcover_detail

}  // namespace subset::select
