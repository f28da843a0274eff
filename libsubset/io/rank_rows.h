#pragma once
// Passes over a store's feature rows shared among ranks (core/communicator.h): each rank reads its
// own contiguous share of row blocks and the ranks combine what they found into the one-process
// answer (the first bad row, the features checksum, the rows a selection picks). How a rank reads
// is the caller's (parallel HDF5 under mpirun: workflows/store_passes.h); by default each rank
// reads through its own FeatureArray. With one rank every pass is the plain serial one.
//
// Every function here is collective: every rank calls it, with the same arguments but the reader.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/io/store.h"

namespace subset::io {

// read(first, count, out): rows [first, first + count) of one 2-D float32 dataset into out.
using RowReader = std::function<void(int64_t first, int64_t count, float* out)>;

struct RankReads {
  const Communicator* comm = &single_process();
  // Collective: a reader of `dataset` of the store at `path` for this rank. Empty: FeatureArray's.
  // Its file may be one whose closing is collective too (parallel HDF5): every rank drops its last
  // copy of the reader at the same point of the work.
  std::function<RowReader(const std::string& path, const std::string& dataset)> open;
};

// The reader of a split of `store` on these ranks.
RowReader split_reader(const RankReads& ranks, const FeatureStore& store, Split split);

// Rows [first, end) that rank `rank` of `ranks` owns when blocks of `block_rows` rows over `rows`
// rows are shared as RowBlocks::share_among shares them (share_of over blocks).
std::pair<int64_t, int64_t> rank_share(int64_t rows, int64_t block_rows, int rank, int ranks);

// Blocks for a pass over `array` that every rank takes part in: about `target_bytes`, no larger
// than a rank's share of the rows, whole chunks (FeatureArray::block_rows_for).
int64_t rank_block_rows(const FeatureArray& array, size_t target_bytes, int ranks);

// FeatureStore::check_finite on ranks: each scans its share; the lowest bad row is reported, by
// every rank alike, with the one-process message.
void check_finite(const FeatureStore& store, Split split, const RankReads& ranks);

// FeatureStore::features_checksum on ranks: the stored attribute, or the CRC-32 of each rank's
// share combined in row order (zlib's crc32_combine).
std::string features_checksum(const FeatureStore& store, const RankReads& ranks);

// Rows of a dataset of `rows` x `cols` gathered on rank 0: `sorted` holds the rows wanted,
// ascending and unique. Each rank reads the wanted rows of its share (blocks of `block_rows`,
// each block read at most once) and hands them over in windows: window w holds, from every rank,
// its wanted rows number [w * piece_rows, (w + 1) * piece_rows) of its share. Rank 0 calls
// place(p, count, rows) for positions p .. p + count - 1 of `sorted` as they arrive, in window
// order, then rank order. Memory: a block and a piece on every rank.
using PlaceRows = std::function<void(int64_t position, int64_t count, const float* rows)>;
void gather_rows(const Communicator& comm, const RowReader& read, int64_t rows, int64_t cols,
                 const std::vector<int64_t>& sorted, int64_t block_rows, int64_t piece_rows, const PlaceRows& place);

}  // namespace subset::io
