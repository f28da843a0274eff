#include "libsubset/select/row_blocks.h"

#include <algorithm>
#include <cstring>
#include <future>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"

namespace subset::select {

RowBlocks::RowBlocks(int64_t n, int64_t dim, int64_t block_rows, Reader read)
    : n_(n), dim_(dim), block_rows_(block_rows), read_(std::move(read)) {
  SUBSET_CHECK(n >= 1 && dim >= 1 && block_rows >= 1 && read_, "row blocks",
               "needs rows, columns and a block size, got " << n << " x " << dim << " in blocks of " << block_rows);
}

RowBlocks RowBlocks::of_matrix(const float* rows, int64_t n, int64_t dim, int64_t block_rows) {
  return RowBlocks(n, dim, block_rows, [rows, dim](int64_t first, int64_t count, float* out) {
    std::memcpy(out, rows + first * dim, sizeof(float) * static_cast<size_t>(count * dim));
  });
}

int64_t RowBlocks::block_size(int64_t b) const { return std::min(block_rows_, n_ - block_begin(b)); }

void RowBlocks::keep_in_memory(int64_t blocks) {
  kept_.resize(static_cast<size_t>(std::clamp<int64_t>(blocks, 0, this->blocks())));
}

MatrixViewF RowBlocks::read_block(int64_t b, std::vector<float>& buffer) const {
  const int64_t count = block_size(b);
  ++blocks_read_;
  if (b < blocks_kept()) {
    std::vector<float>& kept = kept_[static_cast<size_t>(b)];
    if (kept.empty()) {
      kept.resize(static_cast<size_t>(count * dim_));
      read_rows(block_begin(b), count, kept.data());
    } else {
      check_interrupted();
    }
    return view(kept.data(), count, dim_);
  }
  buffer.resize(static_cast<size_t>(block_rows_ * dim_));
  read_rows(block_begin(b), count, buffer.data());
  return view(buffer.data(), count, dim_);
}

void RowBlocks::read_rows(int64_t first, int64_t count, float* out) const {
  check_interrupted();
  read_(first, count, out);
  rows_read_ += count;
}

void RowBlocks::for_blocks(const std::vector<int64_t>& which,
                           const std::function<void(int64_t, MatrixViewF)>& fn) const {
  constexpr int64_t kReadAheadFloats = int64_t{1} << 16;
  std::vector<float> current, next;
  if (block_rows_ * dim_ < kReadAheadFloats) {
    for (int64_t b : which) {
      fn(block_begin(b), read_block(b, current));
      check_interrupted();
    }
    return;
  }
  // Both buffers allocated here, once: an allocation on the reading thread would come from that
  // thread's malloc arena, which keeps the memory when the thread ends.
  current.resize(static_cast<size_t>(block_rows_ * dim_));
  next.resize(current.size());
  std::future<MatrixViewF> pending;  // destroyed first: waits for a read still writing into `next`
  if (!which.empty()) pending = std::async(std::launch::async, [&] { return read_block(which[0], next); });
  for (size_t u = 0; u < which.size(); ++u) {
    // The view points into `next`'s storage (or a block kept in memory); swapping the vectors
    // moves that storage to `current` without moving it in memory.
    const MatrixViewF block = pending.get();
    std::swap(current, next);
    if (u + 1 < which.size())
      pending = std::async(std::launch::async, [&, b = which[u + 1]] { return read_block(b, next); });
    fn(block_begin(which[u]), block);
    check_interrupted();
  }
}

void RowBlocks::for_each_block(const std::function<void(int64_t, MatrixViewF)>& fn) const {
  std::vector<int64_t> all(static_cast<size_t>(blocks()));
  for (size_t b = 0; b < all.size(); ++b) all[b] = static_cast<int64_t>(b);
  for_blocks(all, fn);
}

}  // namespace subset::select
