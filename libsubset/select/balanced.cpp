#include "libsubset/select/balanced.h"

#include "libsubset/select/allocation.h"
#include "libsubset/select/sampling.h"

namespace subset::select {

Selection BalancedSelector::select(const SelectionRequest& request, const RunContext& context) const {
  return sample_classes(request, context, balanced_allocation);
}

}  // namespace subset::select
