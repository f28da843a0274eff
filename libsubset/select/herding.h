#pragma once
#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// Herding: greedy mean matching. With S the sum and k the number of the points chosen so far
// (already_selected included), each step adds the unselected point x minimising
//   || mean(all) - (S + x) / (k + 1) ||,  i.e. the point nearest to t = (k + 1) mean(all) - S,
// ties to the lowest index. Precisely (so that a brute-force loop returns the same sequence):
//   mean_j = (sum over i in index order of double(x_ij)) / n                      (double)
//   S      = sum of the chosen rows, added in double in choice order (already_selected first, in
//            their given order)
//   t~_j   = float32 rounding of (double(k + 1) * mean_j - S_j)
//   pick   = argmin over unselected x of geometry::sq_dist(x, t~), lowest index on ties
// (sq_dist: libsubset/select/internal/geometry.h, squared Euclidean distance in a fixed order).
// The implementation evaluates sq_dist only for the points whose rigorous lower bound, computed
// from an 8-bit copy of the rows (a quarter of the memory traffic; geometry::Quantized), does not
// already rule them out; the result is the same at any thread count.
//
// Output: indices in pick order; scores[i] = sqrt(sq_dist(x, t~)) / (k + 1), the gap between the
// data mean and the mean of the chosen points right after pick i. No weights. stats: mean_gap =
// || mean(all) - mean(chosen) ||_2 after the last pick, over all chosen points (already_selected
// included). Features must be finite with |v| <= 1e18 (so that the target cannot overflow).
// Features left on disk (SelectionRequest::on_disk) give the same result, read in blocks
// (internal/herding_streamed.h); stats then also count blocks_scanned and blocks_skipped.
class HerdingSelector : public Selector {
 public:
  static ParamSchema params();
  explicit HerdingSelector(const ParamMap& params);
  std::string_view name() const override { return "herding"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;

 private:
  bool prune_ = true;
};

}  // namespace subset::select
