#include "libsubset/io/extract.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <numeric>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/params.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/internal/extract_plan.h"
#include "libsubset/io/store_writer.h"

namespace subset::io {

namespace {

std::string basename_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void check_selection_matches(const SelectionManifest& m, const FeatureStore& store, const std::string& selection_path) {
  check_selection_matches(m, store, selection_path, RankReads{});
}

bool check_selection_matches(const SelectionManifest& m, const FeatureStore& store, const std::string& selection_path,
                             const RankReads& ranks) {
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
  // A pass over the store when it records no checksum: once, and by every rank alike.
  std::optional<std::string> computed;
  const auto checksum = [&]() -> const std::string& {
    if (!computed) computed = features_checksum(store, ranks);
    return *computed;
  };
  // same_rows(m, store), with the checksum taken once.
  if (m.same_rows && m.same_rows->n == info.n() && m.same_rows->checksum == checksum()) {
    // Made on a same-rows store of `store` (an embedding of it): its dimension and checksum are
    // the embedding's, its rows are this store's.
    check_index_range();
    return true;
  }
  // A same-rows selection that fits neither store is reported by its checksums below.
  SUBSET_CHECK(m.same_rows || m.source_dim == 0 || m.source_dim == info.dim(), selection_path,
               "selection was made for a store of dimension " << m.source_dim << ", but " << store.path() << " has "
                                                              << info.dim());
  if (!m.source_checksum.empty()) {
    SUBSET_CHECK(m.source_checksum == checksum(), selection_path,
                 "selection was made from another store: feature checksum "
                     << m.source_checksum << (m.same_rows ? " (rows of " + m.same_rows->checksum + ")" : "")
                     << " differs from " << store.path() << "'s " << checksum());
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
  return false;
}

namespace internal {

ExtractPlan plan_extract(const StoreInfo& info, int64_t k, const std::optional<double>& memory_limit) {
  // Memory: the labels (written at the end) and the order; then either the selected rows and a
  // read block, or two blocks and the file's ranks.
  const MemoryLimit limit = MemoryLimit::of(memory_limit);
  const double row_bytes = static_cast<double>(info.dim()) * sizeof(float);
  const double fixed = 8.0 * static_cast<double>(info.has_labels ? info.n() + k : 0) + 16.0 * static_cast<double>(k);
  const double spendable = limit.spendable() - fixed;
  const double selected = static_cast<double>(k) * row_bytes;
  const double chunk = static_cast<double>(std::max<int64_t>(1, info.features.chunk_rows)) * row_bytes;
  constexpr double kBlock = 64.0 * 1024 * 1024;
  ExtractPlan plan;
  if (selected + std::min(kBlock, chunk) <= spendable) {
    plan.block_bytes = std::min(kBlock, spendable - selected);
    return plan;
  }
  const double block = std::min(kBlock, spendable / 2.0);
  SUBSET_CHECK_PARAM(block >= chunk, "memory-limit",
                     limit.describe() << " is too small to extract " << k << " rows of " << info.dim()
                                      << " values out of core: it needs " << format_bytes(fixed)
                                      << " besides two blocks of " << format_bytes(chunk) << ", and "
                                      << format_bytes(std::max(limit.spendable(), 0.0)) << " is left");
  plan.in_memory = false;
  plan.block_bytes = block;
  plan.write_rows = std::max<int64_t>(1, static_cast<int64_t>(block / row_bytes));
  return plan;
}

std::vector<int64_t> row_order(const std::vector<int64_t>& indices) {
  std::vector<int64_t> order(indices.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return indices[a] < indices[b]; });
  return order;
}

std::string extract_source(int64_t k, const std::string& store_path, const SelectionFile& sel,
                           const std::string& selection_path) {
  return std::to_string(k) + " rows of " + store_path + " selected by " + sel.manifest.method + " (" + selection_path +
         ")";
}

void emit_from_spill(const std::string& spill_path, const std::vector<int64_t>& order, int64_t dim, int64_t write_rows,
                     const EmitRows& emit) {
  const auto row_bytes = static_cast<size_t>(dim) * sizeof(float);
  // Output position p holds the row written rank[p]-th to the file.
  std::vector<int64_t> rank(order.size());
  for (size_t r = 0; r < order.size(); ++r) rank[static_cast<size_t>(order[r])] = static_cast<int64_t>(r);
  const int fd = ::open(spill_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) SUBSET_FAIL_FILE(spill_path, errno, "cannot read the rows' temporary file");
  std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* f) {
    ::close(*f);
    delete f;
  });
  const auto k = static_cast<int64_t>(order.size());
  std::vector<float> buffer(static_cast<size_t>(std::min(write_rows, k) * dim));
  for (int64_t first = 0; first < k; first += write_rows) {
    check_interrupted();
    const int64_t count = std::min(write_rows, k - first);
    for (int64_t p = first; p < first + count; ++p) {
      const auto offset = static_cast<off_t>(rank[static_cast<size_t>(p)]) * static_cast<off_t>(row_bytes);
      char* to = reinterpret_cast<char*>(buffer.data() + (p - first) * dim);
      for (size_t got = 0; got < row_bytes;) {
        const ssize_t r = ::pread(fd, to + got, row_bytes - got, offset + static_cast<off_t>(got));
        if (r <= 0) SUBSET_FAIL_FILE(spill_path, r < 0 ? errno : EIO, "cannot read the rows' temporary file");
        got += static_cast<size_t>(r);
      }
    }
    emit(count, buffer.data());
  }
}

}  // namespace internal

namespace {

using internal::kSpillSuffix;

// The selected rows (sel.indices) in selection order, passed to `emit` a block at a time, out of
// core: one pass over the store copies them in row order to a temporary file beside `output`;
// then each output block reads its rows back from it.
void produce_from_spill(const FeatureArray& features, const std::vector<int64_t>& indices,
                        const std::vector<int64_t>& order, int64_t read_block_rows, int64_t write_block_rows,
                        const std::string& output, const EmitRows& emit) {
  const int64_t dim = features.cols();
  const auto row_bytes = static_cast<size_t>(dim) * sizeof(float);
  AtomicOutput spill(output + kSpillSuffix, true);  // removed when done, on failure and on Ctrl-C
  {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(spill.temp_path().c_str(), "wb"), std::fclose);
    if (!file) SUBSET_FAIL_FILE(spill.temp_path(), errno, "cannot write the rows' temporary file");
    size_t next = 0;
    features.for_each_block(read_block_rows, [&](int64_t first, MatrixViewF block) {
      const int64_t end = first + block.rows();
      for (; next < order.size() && indices[static_cast<size_t>(order[next])] < end; ++next) {
        const int64_t row = indices[static_cast<size_t>(order[next])] - first;
        if (std::fwrite(block.data() + row * dim, 1, row_bytes, file.get()) != row_bytes)
          SUBSET_FAIL_FILE(spill.temp_path(), errno, "cannot write the rows' temporary file (disk full?)");
      }
      return next < order.size();
    });
    if (std::fflush(file.get()) != 0) SUBSET_FAIL_FILE(spill.temp_path(), errno, "cannot write the rows' temporary file");
  }
  internal::emit_from_spill(spill.temp_path(), order, dim, write_block_rows, emit);
}

StoreInfo extract_from(const FeatureStore& store, const std::string& store_path, const SelectionFile& sel,
                       const std::string& selection_path, const OutputOptions& out,
                       const std::optional<double>& memory_limit, const RankReads& ranks) {
  if (ranks.comm->distributed())
    return internal::extract_on_ranks(store, store_path, sel, selection_path, out, memory_limit, ranks);
  check_selection_matches(sel.manifest, store, selection_path);
  SUBSET_CHECK(!sel.indices.empty(), selection_path, "selection is empty");
  check_output_path(out.path, out.force);
  const StoreInfo& info = store.info();
  remove_stale_partials(out.path + kSpillSuffix);  // a killed out-of-core run's rows file

  const auto k = static_cast<int64_t>(sel.indices.size());
  const std::vector<int64_t> order = internal::row_order(sel.indices);
  const FeatureArray features = store.features();
  const internal::ExtractPlan plan = internal::plan_extract(info, k, memory_limit);
  const std::string source = internal::extract_source(k, store_path, sel, selection_path);
  if (plan.in_memory) {
    // One streaming pass over the source, copying each selected row to its place in selection order.
    RowMatrixF rows(k, info.dim());
    size_t next = 0;
    features.for_each_block(features.block_rows_for(static_cast<size_t>(plan.block_bytes)),
                            [&](int64_t first, MatrixViewF block) {
                              const int64_t end = first + block.rows();
                              while (next < order.size() && sel.indices[order[next]] < end) {
                                rows.row(order[next]) = block.row(sel.indices[order[next]] - first);
                                ++next;
                              }
                              return next < order.size();
                            });
    return write_derived_store(store, rows, sel.indices, sel.weights, true, source, "subset extract", out);
  }
  const int64_t read_rows = features.block_rows_for(static_cast<size_t>(plan.block_bytes));
  return write_derived_store(
      store, k, info.dim(),
      [&](const EmitRows& emit) {
        produce_from_spill(features, sel.indices, order, read_rows, plan.write_rows, out.path, emit);
      },
      sel.indices, sel.weights, true, source, "subset extract", out);
}

}  // namespace

StoreInfo extract_selection(const std::string& store_path, const std::string& selection_path, const OutputOptions& out,
                            const std::optional<double>& memory_limit, const RankReads& ranks) {
  const FeatureStore store = FeatureStore::open(store_path);
  return extract_from(store, store_path, read_selection(selection_path), selection_path, out, memory_limit, ranks);
}

StoreInfo extract_selection(const std::string& store_path, const SelectionFile& selection,
                            const std::string& selection_name, const OutputOptions& out,
                            const std::optional<double>& memory_limit, const RankReads& ranks) {
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
  return extract_from(store, store_path, checked, selection_name, out, memory_limit, ranks);
}

StoreInfo write_derived_store(const FeatureStore& store, const RowMatrixF& rows, const std::vector<int64_t>& label_rows,
                              const std::vector<float>& weights, bool same_space, const std::string& source,
                              const std::string& command, const OutputOptions& out) {
  return write_derived_store(
      store, rows.rows(), rows.cols(), [&rows](const EmitRows& emit) { emit(rows.rows(), rows.data()); }, label_rows,
      weights, same_space, source, command, out);
}

StoreInfo write_derived_store(const FeatureStore& store, int64_t rows, int64_t cols, const ProduceRows& produce,
                              const std::vector<int64_t>& label_rows, const std::vector<float>& weights,
                              bool same_space, const std::string& source, const std::string& command,
                              const OutputOptions& out) {
  const StoreInfo& info = store.info();
  StoreWriter w(out.path, out.force, out.write);
  w.begin_features(Split::Train, rows, cols);
  produce([&w](int64_t count, const float* data) { w.write_rows(Split::Train, count, data); });
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
  if (names.empty() && info.has_labels && info.num_classes() > rows) {
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
