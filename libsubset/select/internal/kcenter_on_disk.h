#pragma once
// k-center greedy on features left on disk (SelectionRequest::on_disk): the same picks, scores,
// weights and covering radius as KCenterSelector in memory. Not installed.
#include <cstdint>

#include "libsubset/select/selector.h"

namespace subset::select {

Selection kcenter_on_disk(const SelectionRequest& request, const RunContext& context, int64_t init_index);

}  // namespace subset::select
