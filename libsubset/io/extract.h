#pragma once
// Materialising a selection: the selected rows of a store (features, labels, weights) written as
// a new store that keeps the source's test split, so any tool can train on it.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"

#include "libsubset/io/importers.h"
#include "libsubset/io/rank_rows.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"

namespace subset::io {

// Rows are written in selection order. Refuses a selection made from another store (row count or
// feature checksum differ). Memory: the selected rows plus one read block of at most 64 MiB when
// they fit under `memory_limit` (core/memory.h: unset, what the machine has available); otherwise
// the same file is written out of core: one pass over the store copies the selected rows, in row
// order, to a temporary file beside the output, and the output is then written in selection order
// from it, one block at a time (memory: 16 bytes per selected row and two blocks).
//
// On several ranks (ranks.comm, rank_rows.h) every rank calls it and checks the selection alike;
// rank 0 alone checks the output path and decides in memory or out of core (its memory limit),
// each rank reads the selected rows of its share of the store's blocks and hands them to rank 0 in
// windows (of at most the read block, 64 MiB, over all ranks), and rank 0 places them and writes
// the one-process file. The other ranks return a StoreInfo with an empty path.
StoreInfo extract_selection(const std::string& store_path, const std::string& selection_path,
                            const OutputOptions& out, const std::optional<double>& memory_limit = std::nullopt,
                            const RankReads& ranks = {});
// The same for a selection already in memory (the Python module's Selection); `selection_name`
// stands for its path in messages and in the output's "source" attribute.
StoreInfo extract_selection(const std::string& store_path, const SelectionFile& selection,
                            const std::string& selection_name, const OutputOptions& out,
                            const std::optional<double>& memory_limit = std::nullopt, const RankReads& ranks = {});

// Rows handed over in order, a run at a time: produce(emit) calls emit(count, rows) until all are
// given.
using EmitRows = std::function<void(int64_t count, const float* rows)>;
using ProduceRows = std::function<void(const EmitRows& emit)>;

// Writes `rows` as a new store derived from `store`: labels of the source rows `label_rows` (one
// per row), optional weights, and, when `same_space` (rows live in the store's /features space),
// the source's test split and image shape; class names always. `command` names the writer in
// created_by. Used for extracts and for k-means centroids.
StoreInfo write_derived_store(const FeatureStore& store, const RowMatrixF& rows, const std::vector<int64_t>& label_rows,
                              const std::vector<float>& weights, bool same_space, const std::string& source,
                              const std::string& command, const OutputOptions& out);
// The same with the rows produced in runs (rows x cols in all), so that they need not all be in
// memory at once.
StoreInfo write_derived_store(const FeatureStore& store, int64_t rows, int64_t cols, const ProduceRows& produce,
                              const std::vector<int64_t>& label_rows, const std::vector<float>& weights,
                              bool same_space, const std::string& source, const std::string& command,
                              const OutputOptions& out);

// Throws Error when a selection (its manifest) was not made from `store` or does not fit it, in
// this order: row count (source_n), dimension (source_dim, when recorded), feature checksum -- or,
// for a selection without source_checksum, the file name of its recorded source -- and last the
// largest index against the store's rows (docs/format.md, "Selection files").
void check_selection_matches(const SelectionManifest& manifest, const FeatureStore& store,
                             const std::string& selection_path);
// The same on ranks (collective: a checksum the store does not record is computed by the ranks
// together, rank_rows.h); true when the selection was made on a same-rows store of `store`.
bool check_selection_matches(const SelectionManifest& manifest, const FeatureStore& store,
                             const std::string& selection_path, const RankReads& ranks);

}  // namespace subset::io
