// Tests for libsubset/io/rank_rows.h on ranks as threads (support/thread_ranks.h): the rows a rank
// reads are its own share's, each block read once; rank 0 gets every wanted row once, whatever the
// rank count, block and window sizes (windows ending inside a rank's share, ranks that own none of
// the wanted rows); the value check and the checksum equal the one-process ones (FeatureStore's),
// and a rank that cannot read fails every rank instead of leaving them waiting.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/error.h"
#include "libsubset/io/rank_rows.h"
#include "libsubset/io/store.h"
#include "support/error_of.h"
#include "support/h5_builder.h"
#include "support/temp_dir.h"
#include "support/thread_ranks.h"

using namespace subset;
using namespace subset::io;
using namespace subset::test;

namespace {

std::vector<float> numbered(int64_t rows, int64_t cols) {
  std::vector<float> x(static_cast<size_t>(rows * cols));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) * 0.25f - 7.0f;
  return x;
}

// A store written with the HDF5 C API (no checksum attribute): `rows` x `cols`, chunks of
// `chunk_rows`, NaN at the given train rows and, when test_rows, a test split with NaN at its rows.
std::string write_raw_store(const TempDir& dir, const std::string& name, hsize_t rows, hsize_t cols, hsize_t chunk_rows,
                            const std::vector<hsize_t>& nan_rows = {}, hsize_t test_rows = 0,
                            const std::vector<hsize_t>& test_nan_rows = {}) {
  const std::string path = dir.file(name);
  hid_t f = h5_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create");
  std::vector<double> x(rows * cols);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<double>(i)) * 100.0;
  for (hsize_t r : nan_rows) x[r * cols + cols / 2] = std::numeric_limits<double>::quiet_NaN();
  h5_write_dataset(f, "features", H5Kind::F32, {rows, cols}, x, chunk_rows);
  if (test_rows > 0) {
    std::vector<double> t(test_rows * cols, 0.5);
    for (hsize_t r : test_nan_rows) t[r * cols] = std::numeric_limits<double>::infinity();
    hid_t g = h5_id(H5Gcreate2(f, "test", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group");
    h5_write_dataset(g, "features", H5Kind::F32, {test_rows, cols}, t, std::min(chunk_rows, test_rows));
    H5Gclose(g);
  }
  H5Fclose(f);
  return path;
}

}  // namespace

TEST_CASE("rank rows: shares are whole blocks, contiguous, in rank order, covering every row") {
  for (const int64_t rows : {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{103}})
    for (const int64_t block_rows : {int64_t{1}, int64_t{4}, int64_t{200}})
      for (const int ranks : {1, 2, 3, 7}) {
        int64_t next = 0;
        for (int r = 0; r < ranks; ++r) {
          const auto [first, end] = rank_share(rows, block_rows, r, ranks);
          CHECK(first == next);
          CHECK(end >= first);
          CHECK((first % block_rows == 0 || first == rows));
          next = end;
        }
        CHECK(next == rows);
      }
}

TEST_CASE("rank rows: gather_rows gives rank 0 each wanted row once; ranks read their own blocks, each once") {
  const int64_t cols = 3;
  for (const int64_t rows : {int64_t{1}, int64_t{50}, int64_t{103}}) {
    const std::vector<float> x = numbered(rows, cols);
    std::vector<std::vector<int64_t>> wanted_sets = {{}, {rows - 1}, {0}};
    std::vector<int64_t> all, sevenths, first_block;
    for (int64_t i = 0; i < rows; ++i) {
      all.push_back(i);
      if (i % 7 == 3) sevenths.push_back(i);
      if (i < 4) first_block.push_back(i);  // rank 0's alone: the others own none of them
    }
    wanted_sets.push_back(all);
    wanted_sets.push_back(sevenths);
    wanted_sets.push_back(first_block);
    for (const auto& wanted : wanted_sets)
      for (const int ranks : {1, 2, 3, 5})
        for (const int64_t block_rows : {int64_t{4}, int64_t{16}, int64_t{200}})
          for (const int64_t piece_rows : {int64_t{1}, int64_t{3}, int64_t{1000}}) {
            CAPTURE(rows);
            CAPTURE(wanted.size());
            CAPTURE(ranks);
            CAPTURE(block_rows);
            CAPTURE(piece_rows);
            std::mutex mutex;
            std::vector<float> got(wanted.size() * cols, -1.0f);
            std::vector<int> placed(wanted.size(), 0);
            std::vector<std::string> problems;
            std::set<std::pair<int, int64_t>> blocks_read;
            run_on_ranks(ranks, [&](const Communicator& comm) {
              const auto [mine_first, mine_end] = rank_share(rows, block_rows, comm.rank(), comm.size());
              const RowReader read = [&, mine_first = mine_first, mine_end = mine_end](int64_t first, int64_t count,
                                                                                       float* out) {
                std::lock_guard<std::mutex> lock(mutex);
                if (first < mine_first || first + count > mine_end || first % block_rows != 0)
                  problems.push_back("rank " + std::to_string(comm.rank()) + " read rows " + std::to_string(first));
                if (!blocks_read.insert({comm.rank(), first}).second)
                  problems.push_back("block at " + std::to_string(first) + " read twice");
                std::memcpy(out, x.data() + first * cols, static_cast<size_t>(count * cols) * sizeof(float));
              };
              gather_rows(comm, read, rows, cols, wanted, block_rows, piece_rows,
                          [&](int64_t position, int64_t count, const float* piece) {
                            std::lock_guard<std::mutex> lock(mutex);
                            if (comm.rank() != 0) problems.push_back("placed on another rank than 0");
                            for (int64_t i = 0; i < count; ++i) {
                              ++placed[static_cast<size_t>(position + i)];
                              std::memcpy(got.data() + (position + i) * cols, piece + i * cols, cols * sizeof(float));
                            }
                          });
            });
            CHECK(problems.empty());
            for (size_t p = 0; p < wanted.size(); ++p) {
              CAPTURE(p);
              REQUIRE(placed[p] == 1);
              CHECK(std::memcmp(got.data() + p * cols, x.data() + wanted[p] * cols, cols * sizeof(float)) == 0);
            }
          }
  }
}

TEST_CASE("rank rows: the value check reports the lowest bad row on every rank, as one process does") {
  TempDir dir;
  struct Case {
    std::vector<hsize_t> nan_rows;
    std::vector<hsize_t> test_nan_rows;
  };
  // Bad rows in the last rank's rows, in two ranks' (the lowest wins), none, in the test split only.
  const std::vector<Case> cases = {{{999}, {}}, {{950, 12}, {}}, {{}, {}}, {{}, {3}}, {{500}, {1}}};
  int k = 0;
  for (const Case& c : cases) {
    const std::string path =
        write_raw_store(dir, "nan" + std::to_string(k++) + ".h5", 1000, 5, 16, c.nan_rows, 7, c.test_nan_rows);
    const FeatureStore store = FeatureStore::open(path);
    for (const Split split : {Split::Train, Split::Test}) {
      const std::string want = test::error_text_of([&] { store.check_finite(split); });
      for (const int ranks : {1, 2, 3, 4, 9}) {
        CAPTURE(path);
        CAPTURE(ranks);
        std::vector<std::string> got(static_cast<size_t>(ranks));
        run_on_ranks(ranks, [&](const Communicator& comm) {
          RankReads reads;
          reads.comm = &comm;
          const FeatureStore mine = FeatureStore::open(path);
          got[static_cast<size_t>(comm.rank())] = test::error_text_of([&] { check_finite(mine, split, reads); });
        });
        for (const std::string& g : got) CHECK(g == want);
      }
    }
  }
  const FeatureStore bad = FeatureStore::open(dir.file("nan0.h5"));
  CHECK(test::error_text_of([&] { bad.check_finite(); }).find("at row 999") != std::string::npos);
}

TEST_CASE("rank rows: the features checksum of a store that records none is the one-process CRC") {
  TempDir dir;
  // 3 chunks among up to 5 ranks: some ranks own no rows.
  for (const auto& [rows, chunk] : std::vector<std::pair<hsize_t, hsize_t>>{{1000, 16}, {40, 16}, {1, 1}}) {
    const std::string path = write_raw_store(dir, "crc" + std::to_string(rows) + ".h5", rows, 7, chunk);
    const FeatureStore store = FeatureStore::open(path);
    REQUIRE(store.info().features.checksum.empty());
    const std::string want = store.features_checksum();
    for (const int ranks : {1, 2, 3, 5}) {
      CAPTURE(rows);
      CAPTURE(ranks);
      std::vector<std::string> got(static_cast<size_t>(ranks));
      run_on_ranks(ranks, [&](const Communicator& comm) {
        RankReads reads;
        reads.comm = &comm;
        got[static_cast<size_t>(comm.rank())] = features_checksum(FeatureStore::open(path), reads);
      });
      for (const std::string& g : got) CHECK(g == want);
    }
  }
}

TEST_CASE("rank rows: a rank that cannot read its rows fails every rank, through the reader it was given") {
  TempDir dir;
  const std::string path = write_raw_store(dir, "s.h5", 300, 4, 8);
  std::vector<std::string> got(3);
  run_on_ranks(3, [&](const Communicator& comm) {
    RankReads reads;
    reads.comm = &comm;
    reads.open = [&comm](const std::string& p, const std::string& dataset) -> RowReader {
      CHECK(dataset == "/features");
      const FeatureArray array = FeatureStore::open(p).features();
      return [&comm, array](int64_t first, int64_t count, float* out) {
        if (comm.rank() == 1) throw Error("damaged block", "rank 1's rows");
        array.read_rows(first, count, out);
      };
    };
    got[static_cast<size_t>(comm.rank())] = test::error_text_of([&] { features_checksum(FeatureStore::open(path), reads); });
  });
  CHECK(got[0] == "rank 1 could not read its rows @ " + path + ":/features");
  CHECK(got[1] == "damaged block @ rank 1's rows");
  CHECK(got[2] == got[0]);
}
