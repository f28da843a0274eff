#include "libsubset/io/extract.h"

#include <algorithm>
#include <numeric>

#include "libsubset/core/error.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store_writer.h"

namespace subset::io {

namespace {

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void check_selection_matches(const SelectionManifest& m, const FeatureStore& store, const std::string& selection_path) {
  const StoreInfo& info = store.info();
  // The store-level checks come before the per-index one: an index beyond the store's rows in a
  // selection made for another store is that store's index, not a bad one.
  SUBSET_CHECK(m.source_n == info.n(), selection_path,
               "selection was made for a store of " << m.source_n << " rows, but " << store.path() << " has "
                                                    << info.n());
  const auto check_index_range = [&] {
    SUBSET_CHECK(m.max_index < info.n(), selection_path + ":/indices",
                 "index " << m.max_index << " is out of range for a store of " << info.n() << " rows");
  };
  if (same_rows(m, store)) {
    // Made on a same-rows store of `store` (an embedding of it): its dimension and checksum are
    // the embedding's, its rows are this store's.
    check_index_range();
    return;
  }
  // A same-rows selection that fits neither store is reported by its checksums below.
  SUBSET_CHECK(m.same_rows || m.source_dim == 0 || m.source_dim == info.dim(), selection_path,
               "selection was made for a store of dimension " << m.source_dim << ", but " << store.path() << " has "
                                                              << info.dim());
  if (!m.source_checksum.empty()) {
    const std::string checksum = store.features_checksum();
    SUBSET_CHECK(m.source_checksum == checksum, selection_path,
                 "selection was made from another store: feature checksum "
                     << m.source_checksum << (m.same_rows ? " (rows of " + m.same_rows->checksum + ")" : "")
                     << " differs from " << store.path() << "'s " << checksum);
  } else {
    // Without a checksum the rows, the dimension (when recorded) and the file name of the source
    // are all there is to go on; a renamed store must then be matched through a selection that
    // carries its checksum.
    SUBSET_CHECK(!m.source.empty(), selection_path,
                 "selection records neither source_checksum nor source: cannot tell whether it was made from "
                     << store.path());
    SUBSET_CHECK(basename_of(m.source) == basename_of(store.path()), selection_path,
                 "selection has no source_checksum and was made from '"
                     << m.source << "', not '" << store.path()
                     << "' (rows match, but without a checksum the file name must match too)");
  }
  check_index_range();
}

namespace {

StoreInfo extract_from(const FeatureStore& store, const std::string& store_path, const SelectionFile& sel,
                       const std::string& selection_path, const OutputOptions& out) {
  check_selection_matches(sel.manifest, store, selection_path);
  SUBSET_CHECK(!sel.indices.empty(), selection_path, "selection is empty");
  check_output_path(out.path, out.force);
  const StoreInfo& info = store.info();

  // One streaming pass over the source, copying each selected row to its place in selection order.
  const auto k = static_cast<int64_t>(sel.indices.size());
  std::vector<int64_t> order(static_cast<size_t>(k));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return sel.indices[a] < sel.indices[b]; });
  RowMatrixF rows(k, info.dim());
  const FeatureArray features = store.features();
  size_t next = 0;
  features.for_each_block(features.block_rows_for(size_t{64} << 20), [&](int64_t first, MatrixViewF block) {
    const int64_t end = first + block.rows();
    while (next < order.size() && sel.indices[order[next]] < end) {
      rows.row(order[next]) = block.row(sel.indices[order[next]] - first);
      ++next;
    }
    return next < order.size();
  });

  std::string source = std::to_string(k) + " rows of " + store_path + " selected by " + sel.manifest.method + " (" +
                       selection_path + ")";
  return write_derived_store(store, rows, sel.indices, sel.weights, true, source, "subset extract", out);
}

}  // namespace

StoreInfo extract_selection(const std::string& store_path, const std::string& selection_path, const OutputOptions& out) {
  const FeatureStore store = FeatureStore::open(store_path);
  return extract_from(store, store_path, read_selection(selection_path), selection_path, out);
}

StoreInfo extract_selection(const std::string& store_path, const SelectionFile& selection,
                            const std::string& selection_name, const OutputOptions& out) {
  const FeatureStore store = FeatureStore::open(store_path);
  // read_selection() validates the indices and records the largest; a selection made in memory
  // (select on an array or a store) has not been through it.
  SelectionFile checked = selection;
  std::vector<int64_t> sorted = checked.indices;
  std::sort(sorted.begin(), sorted.end());
  SUBSET_CHECK(sorted.empty() || sorted.front() >= 0, selection_name, "negative index " << sorted.front());
  SUBSET_CHECK(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(), selection_name,
               "index " << *std::adjacent_find(sorted.begin(), sorted.end()) << " appears twice");
  checked.manifest.max_index = sorted.empty() ? -1 : sorted.back();
  return extract_from(store, store_path, checked, selection_name, out);
}

StoreInfo write_derived_store(const FeatureStore& store, const RowMatrixF& rows, const std::vector<int64_t>& label_rows,
                              const std::vector<float>& weights, bool same_space, const std::string& source,
                              const std::string& command, const OutputOptions& out) {
  const StoreInfo& info = store.info();
  StoreWriter w(out.path, out.force, out.write);
  w.begin_features(Split::Train, rows.rows(), rows.cols());
  w.write_rows(Split::Train, rows.rows(), rows.data());
  if (info.has_labels) {
    const std::vector<int64_t> all = store.labels();
    std::vector<int64_t> labels;
    for (int64_t i : label_rows) labels.push_back(all[static_cast<size_t>(i)]);
    w.write_labels(Split::Train, labels);
  }
  if (!weights.empty()) w.write_weights(weights);
  if (info.has_test && same_space) {
    const FeatureArray test = store.features(Split::Test);
    w.begin_features(Split::Test, test.rows(), test.cols());
    test.for_each_block(test.block_rows_for(size_t{16} << 20), [&](int64_t, MatrixViewF block) {
      w.write_rows(Split::Test, block.rows(), block.data());
      return true;
    });
    if (info.has_test_labels) w.write_labels(Split::Test, store.labels(Split::Test));
  }
  if (same_space) w.set_image_shape(info.image_shape);
  std::vector<std::string> names = info.class_names;
  if (names.empty() && info.has_labels && info.num_classes() > rows.rows()) {
    // A store's labels must stay below max(rows, class names): a subset smaller than the source's
    // class count keeps its labels valid by naming the classes ("0", "1", ...).
    for (int64_t c = 0; c < info.num_classes(); ++c) names.push_back(std::to_string(c));
  }
  w.set_class_names(names);
  w.set_source(source);
  w.set_created_by(std::string("libsubset ") + kVersion + " (" + command + ")");
  w.commit();
  return FeatureStore::open(out.path).info();
}

}  // namespace subset::io
