#pragma once
// Exchanges of per-row data among the ranks of a RowBlocks (row_blocks.h) for the methods that
// keep some state on every rank: a row read where it is owned, a vector whose slices the ranks
// computed, variable-length lists gathered in rank order. Alone, each is a copy or nothing. Not
// installed.
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/select/row_blocks.h"

namespace subset::select {

// Each rank's rows [first, end), clamped to [0, n) (a rank without blocks has an empty range).
inline std::vector<std::pair<int64_t, int64_t>> rows_of_ranks(const RowBlocks& rows) {
  const Communicator& comm = rows.comm();
  std::vector<std::pair<int64_t, int64_t>> out;
  for (int r = 0; r < comm.size(); ++r) {
    const auto [b0, b1] = share_of(rows.blocks(), r, comm.size());
    out.emplace_back(std::min(rows.n(), rows.block_begin(b0)), std::min(rows.n(), rows.block_begin(b1)));
  }
  return out;
}

// Row i into out (dim floats) on every rank: the rank that owns it reads it and sends it.
inline void read_row_everywhere(const RowBlocks& rows, int64_t i, float* out) {
  const int owner = rows.owner_of(i);
  if (owner == rows.comm().rank()) rows.read_rows(i, 1, out);
  rows.comm().broadcast(out, sizeof(float) * static_cast<size_t>(rows.dim()), owner);
}

// values[ranges[r]] from rank r, for every r: a vector each rank filled in its own range only
// becomes the same on every rank.
template <class T>
void share_ranges(const Communicator& comm, const std::vector<std::pair<int64_t, int64_t>>& ranges,
                  std::vector<T>& values) {
  static_assert(std::is_trivially_copyable_v<T>, "share_ranges copies bytes");
  if (!comm.distributed()) return;
  for (int r = 0; r < comm.size(); ++r) {
    const auto [first, end] = ranges[static_cast<size_t>(r)];
    if (end > first)
      comm.broadcast(values.data() + first, sizeof(T) * static_cast<size_t>(end - first), r);
  }
}

// Every rank's `mine`, one after the other in rank order, on every rank; `lengths`, when not
// null, gets each rank's count.
template <class T>
std::vector<T> gather_lists(const Communicator& comm, const std::vector<T>& mine,
                            std::vector<uint64_t>* lengths = nullptr) {
  static_assert(std::is_trivially_copyable_v<T>, "gather_lists copies bytes");
  const std::vector<uint64_t> count = gather_all(comm, static_cast<uint64_t>(mine.size()));
  if (lengths) *lengths = count;
  if (!comm.distributed()) return mine;
  std::vector<T> all;
  uint64_t total = 0;
  for (uint64_t c : count) total += c;
  all.reserve(static_cast<size_t>(total));
  std::vector<T> part;
  for (int r = 0; r < comm.size(); ++r) {
    if (count[static_cast<size_t>(r)] == 0) continue;
    if (r == comm.rank()) part = mine;
    else part.resize(static_cast<size_t>(count[static_cast<size_t>(r)]));
    comm.broadcast(part.data(), sizeof(T) * part.size(), r);
    all.insert(all.end(), part.begin(), part.end());
  }
  return all;
}

}  // namespace subset::select
