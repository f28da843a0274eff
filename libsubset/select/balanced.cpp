#include "libsubset/select/balanced.h"

#include "libsubset/select/allocation.h"
#include "libsubset/select/sampling.h"

namespace subset::select {

Selection BalancedSelector::select(const SelectionRequest& request, const RunContext& context) const {
  const auto& labels = *request.labels;
  const auto available = available_per_class(labels, request.already_selected);
  const auto take = balanced_allocation(available, request.budget);
  Selection out;
  out.indices = interleave(sample_per_class(labels, request.already_selected, take, Rng(context.seed), &available));
  out.stats["class_budget"] = take;
  return out;
}

}  // namespace subset::select
