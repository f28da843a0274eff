#pragma once
// Herding on features left on disk (SelectionRequest::on_disk): the same picks, scores and mean gap
// as HerdingSelector in memory. Not installed.
#include <cstdint>

#include "libsubset/select/selector.h"

namespace subset::select {

// Rows whose bounding ball one summary covers: whole blocks, at least enough rows that the
// summaries stay within kHerdingSummaryBytesPerRow (registry.cpp's on-disk figure counts them so).
inline constexpr double kHerdingSummaryBytesPerRow = 4.0;
int64_t herding_group_blocks(int64_t dim, int64_t block_rows);

Selection herding_streamed(const SelectionRequest& request, const RunContext& context);

}  // namespace subset::select
