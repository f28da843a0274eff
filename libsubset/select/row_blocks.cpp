#include "libsubset/select/row_blocks.h"

#include <algorithm>
#include <cstring>
#include <future>
#include <tuple>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"

namespace subset::select {

RowBlocks::RowBlocks(int64_t n, int64_t dim, int64_t block_rows, Reader read)
    : n_(n), dim_(dim), block_rows_(block_rows), read_(std::move(read)) {
  SUBSET_CHECK(n >= 1 && dim >= 1 && block_rows >= 1 && read_, "row blocks",
               "needs rows, columns and a block size, got " << n << " x " << dim << " in blocks of " << block_rows);
  end_block_ = blocks();
}

RowBlocks RowBlocks::of_matrix(const float* rows, int64_t n, int64_t dim, int64_t block_rows) {
  return RowBlocks(n, dim, block_rows, [rows, dim](int64_t first, int64_t count, float* out) {
    std::memcpy(out, rows + first * dim, sizeof(float) * static_cast<size_t>(count * dim));
  });
}

int64_t RowBlocks::block_size(int64_t b) const { return std::min(block_rows_, n_ - block_begin(b)); }

void RowBlocks::share_among(const Communicator& comm) {
  SUBSET_CHECK(kept_.empty() && blocks_read_ == 0, "row blocks", "shared among ranks after blocks were read");
  comm_ = &comm;
  std::tie(first_block_, end_block_) = share_of(blocks(), comm.rank(), comm.size());
}

int64_t RowBlocks::end_row() const { return std::min(n_, block_begin(end_block_)); }

int RowBlocks::owner_of(int64_t row) const {
  const int64_t b = row / block_rows_;
  for (int r = 0; r < comm_->size(); ++r)
    if (b < share_of(blocks(), r, comm_->size()).second) return r;
  SUBSET_CHECK(false, "row blocks", "row " << row << " is not among the " << n_ << " rows");
  return -1;
}

void RowBlocks::keep_in_memory(int64_t blocks) {
  kept_.resize(static_cast<size_t>(std::clamp<int64_t>(blocks, 0, end_block_ - first_block_)));
}

MatrixViewF RowBlocks::read_block(int64_t b, std::vector<float>& buffer) const {
  const int64_t count = block_size(b);
  ++blocks_read_;
  if (b >= first_block_ && b - first_block_ < blocks_kept()) {
    std::vector<float>& kept = kept_[static_cast<size_t>(b - first_block_)];
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
  std::vector<int64_t> owned;
  for (int64_t b = first_block_; b < end_block_; ++b) owned.push_back(b);
  for_blocks(owned, fn);
}

}  // namespace subset::select
