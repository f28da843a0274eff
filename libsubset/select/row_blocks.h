#pragma once
// Features that stay on disk: n x dim float32 rows read in fixed blocks, for the methods that run
// out of core (`subset select --memory-limit`). A method holds O(n) per-row state (distances,
// bounds) and one block of rows at a time; each pass over the data reads the blocks it cannot
// rule out. select knows nothing of files: the workflow supplies the reader (a store's hyperslab).
//
// On several ranks (core/communicator.h) each rank owns a contiguous share of the blocks: a method
// keeps state for its own rows only, reads only its own blocks, and reduces through comm().
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/matrix.h"

namespace subset::select {

class RowBlocks {
 public:
  // read(first, count, out) fills out with rows [first, first + count) (count * dim floats).
  using Reader = std::function<void(int64_t first, int64_t count, float* out)>;
  RowBlocks(int64_t n, int64_t dim, int64_t block_rows, Reader read);
  // Rows already in memory, cut into blocks the same way (tests; the in-memory result is the
  // reference a streamed one must equal).
  static RowBlocks of_matrix(const float* rows, int64_t n, int64_t dim, int64_t block_rows);

  int64_t n() const { return n_; }
  int64_t dim() const { return dim_; }
  int64_t block_rows() const { return block_rows_; }
  int64_t blocks() const { return (n_ + block_rows_ - 1) / block_rows_; }
  int64_t block_begin(int64_t b) const { return b * block_rows_; }
  int64_t block_size(int64_t b) const;

  // Splits the blocks among comm's ranks (share_of): this rank then owns [first_block(),
  // end_block()), rows [first_row(), end_row()). Alone, a process owns them all.
  void share_among(const Communicator& comm);
  const Communicator& comm() const { return *comm_; }
  int64_t first_block() const { return first_block_; }
  int64_t end_block() const { return end_block_; }
  int64_t first_row() const { return std::min(n_, block_begin(first_block_)); }
  int64_t end_row() const;
  int64_t owned_rows() const { return end_row() - first_row(); }
  // The rank that owns row i.
  int owner_of(int64_t row) const;

  // Keeps the first `blocks` of this rank's blocks in memory once read (the memory a limit leaves
  // beyond the method's state and its two working blocks), so that later passes do not read them again.
  void keep_in_memory(int64_t blocks);
  int64_t blocks_kept() const { return static_cast<int64_t>(kept_.size()); }

  // Block b's rows: read into `buffer` (resized to block_rows * dim), or the copy kept in memory.
  // One call at a time (it may run on another thread than the caller's, but not on two at once).
  MatrixViewF read_block(int64_t b, std::vector<float>& buffer) const;
  // Reads rows [first, first + count) into out.
  void read_rows(int64_t first, int64_t count, float* out) const;
  // Calls fn(first_row, block) for the blocks `which`, in that order, reading the next one on a
  // second thread while fn runs on the current one (two blocks in memory; blocks too small for a
  // thread to pay, under 64 Ki floats, are read on the calling thread).
  void for_blocks(const std::vector<int64_t>& which, const std::function<void(int64_t, MatrixViewF)>& fn) const;
  // The same for every block this rank owns.
  void for_each_block(const std::function<void(int64_t, MatrixViewF)>& fn) const;

  // Blocks a method read so far, from disk or from those kept in memory, over every pass (what
  // its skipping saved is measured against passes x blocks()); and the rows read from disk.
  int64_t blocks_read() const { return blocks_read_.load(); }
  int64_t rows_read() const { return rows_read_.load(); }

 private:
  int64_t n_, dim_, block_rows_;
  Reader read_;
  const Communicator* comm_ = &single_process();
  int64_t first_block_ = 0, end_block_ = 0;
  // kept_[b - first_block_]: block b's rows, empty until first read
  mutable std::vector<std::vector<float>> kept_;
  mutable std::atomic<int64_t> blocks_read_{0}, rows_read_{0};
};

}  // namespace subset::select
