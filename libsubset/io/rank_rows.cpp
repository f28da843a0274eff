#include "libsubset/io/rank_rows.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/matrix.h"

namespace subset::io {

RowReader split_reader(const RankReads& ranks, const FeatureStore& store, Split split) {
  if (ranks.open) return ranks.open(store.path(), features_dataset(split));
  return [array = store.features(split)](int64_t first, int64_t count, float* out) { array.read_rows(first, count, out); };
}

std::pair<int64_t, int64_t> rank_share(int64_t rows, int64_t block_rows, int rank, int ranks) {
  const auto [first, end] = share_of((rows + block_rows - 1) / block_rows, rank, ranks);
  return {std::min(rows, first * block_rows), std::min(rows, end * block_rows)};
}

int64_t rank_block_rows(const FeatureArray& array, size_t target_bytes, int ranks) {
  const double share = static_cast<double>(array.rows()) * static_cast<double>(array.cols()) * sizeof(float) /
                       static_cast<double>(std::max(ranks, 1));
  return array.block_rows_for(static_cast<size_t>(std::min(static_cast<double>(target_bytes), std::ceil(share))));
}

namespace {

// fn(first, block) for the blocks of this rank's share in row order, until fn returns false.
void for_my_blocks(const Communicator& comm, const RowReader& read, int64_t rows, int64_t cols, int64_t block_rows,
                   const std::function<bool(int64_t, MatrixViewF)>& fn) {
  const auto [first, end] = rank_share(rows, block_rows, comm.rank(), comm.size());
  std::vector<float> buffer(static_cast<size_t>(std::min(block_rows, end - first) * cols));
  for (int64_t begin = first; begin < end; begin += block_rows) {
    check_interrupted();
    const int64_t count = std::min(block_rows, end - begin);
    read(begin, count, buffer.data());
    if (!fn(begin, view(buffer.data(), count, cols))) return;
  }
}

// Runs this rank's part of a pass. A rank that fails (a damaged block) throws its error, and every
// other rank throws too instead of waiting in the collective that follows for it: a caller that
// catches the error (describe_file's --store verdict) then goes on alike on every rank.
template <class Part>
void share_failures(const Communicator& comm, const std::string& where, Part&& part) {
  std::exception_ptr failed;
  try {
    part();
  } catch (...) {
    failed = std::current_exception();
  }
  const std::vector<int> failures = gather_all(comm, failed ? 1 : 0);
  if (failed) std::rethrow_exception(failed);
  for (int r = 0; r < comm.size(); ++r)
    SUBSET_CHECK(!failures[static_cast<size_t>(r)], where, "rank " << r << " could not read its rows");
}

}  // namespace

void check_finite(const FeatureStore& store, Split split, const RankReads& ranks) {
  const Communicator& comm = *ranks.comm;
  if (!comm.distributed()) return store.check_finite(split);
  const FeatureArray array = store.features(split);
  const RowReader read = split_reader(ranks, store, split);
  const std::string where = store.path() + ":" + features_dataset(split);
  int64_t mine = -1;
  share_failures(comm, where, [&] {
    for_my_blocks(comm, read, array.rows(), array.cols(), rank_block_rows(array, size_t{64} << 20, comm.size()),
                  [&](int64_t first, MatrixViewF block) {
                    const int64_t at = find_non_finite(block.data(), static_cast<size_t>(block.size()));
                    if (at >= 0) mine = first + at / block.cols();
                    return mine < 0;
                  });
  });
  int64_t row = -1;
  for (const int64_t r : gather_all(comm, mine))
    if (r >= 0 && (row < 0 || r < row)) row = r;
  SUBSET_CHECK(row < 0, where, "NaN or Inf in features at row " << row);
}

std::string features_checksum(const FeatureStore& store, const RankReads& ranks) {
  const Communicator& comm = *ranks.comm;
  const FeatureArray array = store.features();
  if (!comm.distributed() || !array.info().checksum.empty()) return store.features_checksum();
  const RowReader read = split_reader(ranks, store, Split::Train);
  struct Part {
    uint64_t crc = 0, bytes = 0;
  } mine;
  unsigned long crc = 0;
  // Small blocks, as FeatureStore::features_checksum reads: the pass runs beside a command's memory.
  share_failures(comm, store.path() + ":/features", [&] {
    for_my_blocks(comm, read, array.rows(), array.cols(), rank_block_rows(array, size_t{8} << 20, comm.size()),
                  [&](int64_t, MatrixViewF block) {
                    const auto bytes = static_cast<size_t>(block.size()) * sizeof(float);
                    crc = crc32_z(crc, reinterpret_cast<const unsigned char*>(block.data()), bytes);
                    mine.bytes += bytes;
                    return true;
                  });
  });
  mine.crc = crc;
  unsigned long all = 0;
  for (const Part& part : gather_all(comm, mine))
    all = crc32_combine(all, static_cast<unsigned long>(part.crc), static_cast<z_off_t>(part.bytes));
  return format_checksum(all);
}

void gather_rows(const Communicator& comm, const RowReader& read, int64_t rows, int64_t cols,
                 const std::vector<int64_t>& sorted, int64_t block_rows, int64_t piece_rows, const PlaceRows& place) {
  SUBSET_CHECK(block_rows > 0 && piece_rows > 0, "gather_rows", "blocks and pieces must hold rows");
  const int ranks = comm.size(), me = comm.rank();
  // The positions of `sorted` rank r owns: [starts[r], starts[r + 1]).
  std::vector<int64_t> starts(static_cast<size_t>(ranks) + 1);
  for (int r = 0; r < ranks; ++r)
    starts[static_cast<size_t>(r)] =
        std::lower_bound(sorted.begin(), sorted.end(), rank_share(rows, block_rows, r, ranks).first) - sorted.begin();
  starts[static_cast<size_t>(ranks)] = static_cast<int64_t>(sorted.size());
  int64_t windows = 0;
  for (int r = 0; r < ranks; ++r)
    windows = std::max(windows, (starts[static_cast<size_t>(r) + 1] - starts[static_cast<size_t>(r)] + piece_rows - 1) / piece_rows);
  // Rank r's piece of window w: positions [from, to).
  const auto piece_of = [&](int r, int64_t w) {
    const int64_t end = starts[static_cast<size_t>(r) + 1];
    const int64_t from = std::min(end, starts[static_cast<size_t>(r)] + w * piece_rows);
    return std::make_pair(from, std::min(end, from + piece_rows));
  };
  const auto row_bytes = static_cast<size_t>(cols) * sizeof(float);
  std::vector<float> block, piece;
  int64_t block_first = 0, block_end = 0;  // the rows in `block`
  const auto read_piece = [&](int64_t from, int64_t to) {
    piece.resize(static_cast<size_t>((to - from) * cols));
    for (int64_t p = from; p < to; ++p) {
      const int64_t row = sorted[static_cast<size_t>(p)];
      if (row < block_first || row >= block_end) {
        block_first = row / block_rows * block_rows;
        block_end = std::min(rows, block_first + block_rows);
        block.resize(static_cast<size_t>((block_end - block_first) * cols));
        read(block_first, block_end - block_first, block.data());
      }
      std::memcpy(piece.data() + (p - from) * cols, block.data() + (row - block_first) * cols, row_bytes);
    }
  };
  for (int64_t w = 0; w < windows; ++w) {
    check_interrupted();
    if (me != 0) {
      const auto [from, to] = piece_of(me, w);
      if (from == to) continue;
      read_piece(from, to);
      comm.send(piece.data(), piece.size() * sizeof(float), 0);
      continue;
    }
    for (int r = 0; r < ranks; ++r) {
      const auto [from, to] = piece_of(r, w);
      if (from == to) continue;
      if (r == 0) {
        read_piece(from, to);
      } else {
        piece.resize(static_cast<size_t>((to - from) * cols));
        comm.receive(piece.data(), piece.size() * sizeof(float), r);
      }
      place(from, to - from, piece.data());
    }
  }
}

}  // namespace subset::io
