#pragma once
// Moderate-DS (Xia, Liu, Han, Gong, Liu & Liu, "Moderate coreset: a universal method of data
// selection for real-world data-efficient deep learning", ICLR 2023): within each class, the
// points whose distance to the class centre is nearest the class's median distance.
//
// Per class c: centre = mean of the class's features (double, index order); dist(x) = Euclidean
// distance from x to it (geometry::sq_dist against the centre rounded to float, then sqrt);
// median = the median of dist over all the class's points, already-selected ones included (the
// mean of the two middle values for an even count). score(x) = |dist(x) - median|. The budget is
// split over the classes' open points by `allocation` (allocation.h: stratified keeps the class
// proportions, as pruning the full data at a rate does in the paper; balanced gives equal
// shares); each class takes its share of open points by increasing score, ties to the lowest
// index; the classes are interleaved (allocation.h). Needs labels.
//
// Output: indices; scores = |dist - median| of each pick. stats: class_budget.
#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

class ModerateSelector : public Selector {
 public:
  static ParamSchema params();
  explicit ModerateSelector(const ParamMap& params);
  std::string_view name() const override { return "moderate"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;

 private:
  bool balanced_ = false;
};

}  // namespace subset::select
