#pragma once
// Whether a selection reads its features into memory or leaves them on disk and reads them in
// blocks, under a MemoryLimit (core/memory.h).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "libsubset/core/memory.h"
#include "libsubset/io/store.h"
#include "libsubset/select/registry.h"

namespace subset::workflows {

struct SelectMemoryPlan {
  bool on_disk = false;        // features read in blocks of block_rows (else read whole)
  int64_t block_rows = 0;
  // On disk: the first blocks, as many as the limit leaves room for besides the method and its two
  // working blocks, stay in memory once read (RowBlocks::keep_in_memory).
  int64_t blocks_kept = 0;
  double features_bytes = 0;   // n x dim float32
  double method_bytes = 0;     // the method's own needs, in memory or on disk as planned
  double limit_bytes = 0;
  // "in memory: 2.9 GiB of features + 61 MiB under --memory-limit 4 GiB", or "on disk: ...":
  // what `select -v` prints.
  std::string summary;
};

// Plans a selection of `picks` points (already selected included) with `spec` on `features`.
// per_class: each class is read into memory in turn (one pass over the store each), so only the
// largest class (largest_class rows) must fit. Throws ParamError naming "memory-limit" when no plan fits, saying what
// would: a larger limit, or a method that streams.
SelectMemoryPlan plan_select_memory(const select::MethodSpec& spec, const io::FeatureArray& features, int64_t picks,
                                    bool per_class, int64_t largest_class, const MemoryLimit& limit);

// Plans a selection by a method that trains on shares (the importance scores) over `ranks`
// processes: each rank reads its contiguous share of the rows (share_of) into memory, which must
// fit in `limit` with the method's needs for that share. Refuses --per-class, fewer rows than ranks,
// and a limit too small for a share, with one line.
SelectMemoryPlan plan_shared_select(const select::MethodSpec& spec, const io::FeatureArray& features, int64_t picks,
                                    bool per_class, const MemoryLimit& limit, int ranks);

// Plans a selection spread over `ranks` processes: the features stay on disk, each rank reading its
// own share of the blocks (whole chunks, at most 16 MiB, two of them within `limit`, and at most
// `most_block_rows`: the ranks must agree on one size, and their limits may differ) and keeping as
// many of them in memory as `limit` leaves room for. Methods that do not stream, and --per-class,
// are refused with one line.
SelectMemoryPlan plan_distributed_select(const select::MethodSpec& spec, const io::FeatureArray& features, int64_t picks,
                                         bool per_class, const MemoryLimit& limit, int ranks,
                                         int64_t most_block_rows = std::numeric_limits<int64_t>::max());

}  // namespace subset::workflows
