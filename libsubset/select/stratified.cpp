#include "libsubset/select/stratified.h"

#include "libsubset/select/allocation.h"
#include "libsubset/select/sampling.h"

namespace subset::select {

Selection StratifiedSelector::select(const SelectionRequest& request, const RunContext& context) const {
  return sample_classes(request, context, stratified_allocation);
}

}  // namespace subset::select
