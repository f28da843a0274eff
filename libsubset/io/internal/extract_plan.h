#pragma once
// What an extract in one process (extract.cpp) and on several ranks (extract_ranks.cpp) share: the
// memory plan, the selection's row order, and writing the output from the out-of-core rows file.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/io/extract.h"

namespace subset::io::internal {

// The temporary file of an out-of-core extract is a hidden partial file of OUTPUT + this.
inline constexpr const char* kSpillSuffix = ".rows";

struct ExtractPlan {
  bool in_memory = true;
  // In memory: the bytes beside the selected rows for reading (one read block in one process).
  // Out of core: one block's bytes (a read block, then a write block of write_rows rows).
  double block_bytes = 0;
  int64_t write_rows = 0;
};

// The selected rows in memory when they and a read block fit under the limit, else out of core;
// ParamError (memory-limit) when not even two blocks fit beside the per-row state.
ExtractPlan plan_extract(const StoreInfo& info, int64_t selected_rows, const std::optional<double>& memory_limit);

// The positions of `indices` in row order.
std::vector<int64_t> row_order(const std::vector<int64_t>& indices);

// The output's "source" attribute.
std::string extract_source(int64_t rows, const std::string& store_path, const SelectionFile& selection,
                           const std::string& selection_path);

// The rows in selection order, passed to `emit` `write_rows` at a time, from the rows file at
// `spill_path` that holds the selected rows (dim floats each) in row order.
void emit_from_spill(const std::string& spill_path, const std::vector<int64_t>& order, int64_t dim, int64_t write_rows,
                     const EmitRows& emit);

// extract_selection on several ranks (extract_ranks.cpp).
StoreInfo extract_on_ranks(const FeatureStore& store, const std::string& store_path, const SelectionFile& selection,
                           const std::string& selection_path, const OutputOptions& out,
                           const std::optional<double>& memory_limit, const RankReads& ranks);

}  // namespace subset::io::internal
