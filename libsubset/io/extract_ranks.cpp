// extract_selection on several ranks: every rank reads the selected rows of its share of the
// store's blocks (rank_rows.h, gather_rows) and rank 0 places them and writes the file one process
// writes, in memory or through the rows file as its memory limit allows.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <memory>

#include "libsubset/core/error.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/internal/extract_plan.h"

namespace subset::io::internal {
namespace {

// What rank 0 decided, for every rank: blocks are shared by block_rows, so all must agree.
struct RankPlan {
  int64_t refused = 0;  // rank 0 failed before any work; its error is the one to report
  int64_t in_memory = 0;
  int64_t block_rows = 0, piece_rows = 0, write_rows = 0;
};

// Reads and windows split the plan's bytes: in memory a block and a piece (one rank's part of a
// window, all ranks' parts making at most the rest); out of core a block each.
RankPlan plan_on_ranks(const FeatureArray& features, int64_t k, const std::optional<double>& memory_limit, int ranks,
                       const StoreInfo& info) {
  const ExtractPlan plan = plan_extract(info, k, memory_limit);
  const double io_bytes = plan.in_memory ? plan.block_bytes / 2.0 : plan.block_bytes;
  const double row_bytes = static_cast<double>(features.cols()) * sizeof(float);
  RankPlan p;
  p.in_memory = plan.in_memory ? 1 : 0;
  p.block_rows = rank_block_rows(features, static_cast<size_t>(io_bytes), ranks);
  p.piece_rows = std::max<int64_t>(1, static_cast<int64_t>(io_bytes / row_bytes / ranks));
  p.write_rows = plan.write_rows;
  return p;
}

void write_all(int fd, const void* data, size_t bytes, off_t offset, const std::string& path) {
  const char* from = static_cast<const char*>(data);
  for (size_t done = 0; done < bytes;) {
    const ssize_t w = ::pwrite(fd, from + done, bytes - done, offset + static_cast<off_t>(done));
    if (w <= 0) SUBSET_FAIL_FILE(path, w < 0 ? errno : EIO, "cannot write the rows' temporary file (disk full?)");
    done += static_cast<size_t>(w);
  }
}

}  // namespace

StoreInfo extract_on_ranks(const FeatureStore& store, const std::string& store_path, const SelectionFile& sel,
                           const std::string& selection_path, const OutputOptions& out,
                           const std::optional<double>& memory_limit, const RankReads& ranks) {
  const Communicator& comm = *ranks.comm;
  // Every rank holds the same store and selection: a mismatch fails on each alike.
  check_selection_matches(sel.manifest, store, selection_path, ranks);
  SUBSET_CHECK(!sel.indices.empty(), selection_path, "selection is empty");
  const StoreInfo& info = store.info();
  const FeatureArray features = store.features();
  const auto k = static_cast<int64_t>(sel.indices.size());
  // Rank 0 alone checks the output (another rank checking later could find it written) and plans
  // by its own memory; the others follow its plan, or stop with it.
  RankPlan plan;
  std::exception_ptr refused;
  if (comm.rank() == 0) {
    try {
      check_output_path(out.path, out.force);
      remove_stale_partials(out.path + kSpillSuffix);  // a killed out-of-core run's rows file
      plan = plan_on_ranks(features, k, memory_limit, comm.size(), info);
    } catch (...) {
      refused = std::current_exception();
      plan.refused = 1;
    }
  }
  comm.broadcast(&plan, sizeof plan, 0);
  if (refused) std::rethrow_exception(refused);
  SUBSET_CHECK(!plan.refused, out.path, "rank 0 refused the extract");

  // Closed by every rank right after the gather: closing a parallel HDF5 file is collective, and
  // rank 0 has its writing ahead (with, at commit, the energy sum the others wait in).
  RowReader read = split_reader(ranks, store, Split::Train);
  const auto gather = [&](const PlaceRows& place) {
    std::vector<int64_t> sorted = sel.indices;
    std::sort(sorted.begin(), sorted.end());
    gather_rows(comm, read, info.n(), info.dim(), sorted, plan.block_rows, plan.piece_rows, place);
    read = nullptr;
  };
  const int64_t dim = info.dim();
  if (comm.rank() != 0) {
    gather({});
    return StoreInfo{};
  }
  const std::vector<int64_t> order = row_order(sel.indices);
  const std::string source = extract_source(k, store_path, sel, selection_path);
  if (plan.in_memory) {
    RowMatrixF rows(k, dim);
    gather([&](int64_t position, int64_t count, const float* piece) {
      for (int64_t i = 0; i < count; ++i)
        std::memcpy(rows.data() + order[static_cast<size_t>(position + i)] * dim, piece + i * dim,
                    static_cast<size_t>(dim) * sizeof(float));
    });
    return write_derived_store(store, rows, sel.indices, sel.weights, true, source, "subset extract", out);
  }
  // The rows file holds the selected rows in row order, as one process writes it: each piece's
  // rows are consecutive there.
  const auto row_bytes = static_cast<size_t>(dim) * sizeof(float);
  return write_derived_store(
      store, k, dim,
      [&](const EmitRows& emit) {
        AtomicOutput spill(out.path + kSpillSuffix, true);  // removed when done, on failure and on Ctrl-C
        {
          const int fd = ::open(spill.temp_path().c_str(), O_WRONLY | O_CLOEXEC);
          if (fd < 0) SUBSET_FAIL_FILE(spill.temp_path(), errno, "cannot write the rows' temporary file");
          std::unique_ptr<int, void (*)(int*)> closer(new int(fd), [](int* f) {
            ::close(*f);
            delete f;
          });
          gather([&](int64_t position, int64_t count, const float* piece) {
            write_all(fd, piece, static_cast<size_t>(count) * row_bytes,
                      static_cast<off_t>(position) * static_cast<off_t>(row_bytes), spill.temp_path());
          });
        }
        emit_from_spill(spill.temp_path(), order, dim, plan.write_rows, emit);
      },
      sel.indices, sel.weights, true, source, "subset extract", out);
}

}  // namespace subset::io::internal
