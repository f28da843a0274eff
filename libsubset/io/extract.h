#pragma once
// Materialising a selection: the selected rows of a store (features, labels, weights) written as
// a new store that keeps the source's test split, so any tool can train on it.
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"

#include "libsubset/io/importers.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"

namespace subset::io {

// Rows are written in selection order. Refuses a selection made from another store (row count or
// feature checksum differ). Memory: the selected rows plus one 64 MiB read block.
StoreInfo extract_selection(const std::string& store_path, const std::string& selection_path,
                            const OutputOptions& out);
// The same for a selection already in memory (the Python module's Selection); `selection_name`
// stands for its path in messages and in the output's "source" attribute.
StoreInfo extract_selection(const std::string& store_path, const SelectionFile& selection,
                            const std::string& selection_name, const OutputOptions& out);

// Writes `rows` as a new store derived from `store`: labels of the source rows `label_rows` (one
// per row), optional weights, and, when `same_space` (rows live in the store's /features space),
// the source's test split and image shape; class names always. `command` names the writer in
// created_by. Used for extracts and for k-means centroids.
StoreInfo write_derived_store(const FeatureStore& store, const RowMatrixF& rows, const std::vector<int64_t>& label_rows,
                              const std::vector<float>& weights, bool same_space, const std::string& source,
                              const std::string& command, const OutputOptions& out);

// Throws Error when a selection (its manifest) was not made from `store` or does not fit it, in
// this order: row count (source_n), dimension (source_dim, when recorded), feature checksum -- or,
// for a selection without source_checksum, the file name of its recorded source -- and last the
// largest index against the store's rows (docs/format.md, "Selection files").
void check_selection_matches(const SelectionManifest& manifest, const FeatureStore& store,
                             const std::string& selection_path);

}  // namespace subset::io
