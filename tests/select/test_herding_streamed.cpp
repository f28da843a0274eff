// Tests for herding on features left on disk (select/herding_streamed.cpp): the same picks, scores
// and mean gap, bit for bit, as the in-memory selector (itself checked against brute force in
// test_herding.cpp), for block sizes from one row to more than n, with already-selected points,
// duplicates and exact ties across blocks; whole blocks skipped where the rows are sorted by
// cluster; blocks shared by threads; bad values named by their row in the whole set; the
// registry's on-disk memory figure covering the summaries.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/internal/herding_streamed.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "support/error_of.h"
#include "support/point_sets.h"
#include "support/select_rows.h"

using namespace subset::select;
using namespace subset::test;

namespace {

Selection run(const Data& d, int64_t budget, const std::vector<int64_t>& already, const RowBlocks* on_disk,
              const RunContext& context = {}) {
  return select_rows("herding", d, budget, already, on_disk, context);
}

int64_t stat(const Selection& s, const char* name) { return s.stats[name].get<int64_t>(); }

// Runs both ways and checks the streamed result against the in-memory one; returns the streamed one.
Selection check_same(const Data& d, int64_t budget, const std::vector<int64_t>& already, int64_t block_rows) {
  CAPTURE(block_rows);
  const Selection in_memory = run(d, budget, already, nullptr);
  const RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
  const Selection on_disk = run(d, budget, already, &blocks);
  CHECK(on_disk.indices == in_memory.indices);
  CHECK(on_disk.scores == in_memory.scores);
  CHECK(on_disk.weights.empty());
  CHECK(on_disk.stats["mean_gap"].get<double>() == in_memory.stats["mean_gap"].get<double>());
  // Every pick reads or skips each block; the first pass reads each once more.
  CHECK(stat(on_disk, "blocks_scanned") + stat(on_disk, "blocks_skipped") == budget * blocks.blocks());
  CHECK(blocks.blocks_read() == blocks.blocks() + stat(on_disk, "blocks_scanned"));
  return on_disk;
}

// Rows in lexicographic order, so that equal rows are consecutive.
Data sorted_rows(const Data& d) {
  std::vector<std::vector<float>> rows;
  for (int64_t i = 0; i < d.n; ++i)
    rows.emplace_back(d.x.begin() + i * d.dim, d.x.begin() + (i + 1) * d.dim);
  std::sort(rows.begin(), rows.end());
  Data sorted{d.n, d.dim, {}};
  for (const auto& r : rows) sorted.x.insert(sorted.x.end(), r.begin(), r.end());
  return sorted;
}

// Far-apart clusters, one after the other in row order (a store written class by class).
Data contiguous_clusters(int64_t clusters, int64_t per_cluster, int64_t dim, uint64_t seed) {
  subset::Rng rng(seed);
  Data d{clusters * per_cluster, dim, std::vector<float>(static_cast<size_t>(clusters * per_cluster * dim))};
  std::vector<float> centre(static_cast<size_t>(dim));
  for (int64_t c = 0; c < clusters; ++c) {
    for (auto& v : centre) v = static_cast<float>(10.0 * rng.normal());
    for (int64_t i = c * per_cluster; i < (c + 1) * per_cluster; ++i)
      for (int64_t j = 0; j < dim; ++j)
        d.x[static_cast<size_t>(i * dim + j)] = centre[static_cast<size_t>(j)] + static_cast<float>(0.5 * rng.normal());
  }
  return d;
}

}  // namespace

TEST_CASE("herding streamed: the in-memory picks, scores and mean gap at every block size") {
  const Data sets[] = {gaussian(300, 5, 1), clustered(400, 8, 6, 2), grid(250, 3, 2, 3), pixels(300, 20, 4),
                       gaussian(200, 40, 5, 3.0, 1e4)};
  for (const Data& d : sets) {
    CAPTURE(d.n);
    CAPTURE(d.dim);
    for (int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{64}, d.n - 1, d.n, d.n + 5}) {
      check_same(d, 40, {}, block_rows);
      check_same(d, 30, {d.n - 1, 4, 17, 150, 5}, block_rows);
    }
  }
}

TEST_CASE("herding streamed: every point picked, in order, down to the last") {
  const Data d = gaussian(40, 4, 2);
  for (int64_t block_rows : {int64_t{1}, int64_t{3}, int64_t{40}}) {
    check_same(d, 35, {0, 1, 2, 3, 4}, block_rows);
    check_same(d, 40, {}, block_rows);
  }
}

TEST_CASE("herding streamed: the mean and sums run in the defined order (rows of mixed magnitudes)") {
  // Sums in double of floats from 1e-3 to 1e13 round, so any other order of the additions (the
  // mean's by index, the chosen rows' by choice) changes the mean gap's last bits, or the picks.
  Data d = gaussian(120, 3, 31);
  subset::Rng rng(32);
  for (auto& v : d.x) v *= static_cast<float>(std::pow(10.0, static_cast<double>(rng.uniform_index(17)) - 3.0));
  const std::vector<int64_t> already = {97, 3, 61, 17, 110, 8, 41, 0, 55, 12, 88, 29, 73, 5, 119, 34};
  for (int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{120}}) {
    check_same(d, 40, already, block_rows);
    check_same(d, 60, {}, block_rows);
  }
}

TEST_CASE("herding streamed: duplicates and exact ties go to the lowest index across blocks") {
  // Every row the same: the picks are 0, 1, 2, ... whatever the blocks.
  const Data same{30, 5, std::vector<float>(150, -2.0f)};
  for (int64_t block_rows : {int64_t{1}, int64_t{4}, int64_t{30}}) {
    const Selection s = check_same(same, 4, {}, block_rows);
    CHECK(s.indices == std::vector<int64_t>{0, 1, 2, 3});
    CHECK(s.stats["mean_gap"].get<double>() == 0.0);
  }
  // 8 distinct points, each about 30 times. Sorted, a block holds copies of one or two of them, so
  // the bounds visit blocks out of index order and the copies of the nearest point lie in several
  // blocks: the lowest index must still win.
  const Data ties = sorted_rows(grid(250, 3, 2, 6));
  Data reversed = ties;  // the same rows in the opposite order
  for (int64_t i = 0; i < ties.n; ++i)
    std::copy_n(&ties.x[static_cast<size_t>((ties.n - 1 - i) * ties.dim)], ties.dim,
                &reversed.x[static_cast<size_t>(i * ties.dim)]);
  for (const Data* d : {&ties, static_cast<const Data*>(&reversed)})
    for (int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{16}, int64_t{33}}) check_same(*d, 120, {}, block_rows);
}

TEST_CASE("herding streamed: rows sorted by cluster leave whole blocks unread, and the picks stay the same") {
  const Data d = contiguous_clusters(30, 100, 16, 11);
  const int64_t block_rows = 50;
  REQUIRE(herding_group_blocks(d.dim, block_rows) == 1);  // a summary per block
  const int64_t budget = 60;
  const Selection s = check_same(d, budget, {}, block_rows);
  const int64_t skipped = stat(s, "blocks_skipped"), blocks = (d.n + block_rows - 1) / block_rows;
  // The first pick reads every block; each later one needs about one cluster's two blocks.
  CHECK(skipped > (budget - 1) * blocks / 2);
  MESSAGE("blocks skipped: " << skipped << " of " << budget * blocks);
  // Already-selected points and picks that empty a block change nothing.
  check_same(d, budget, {0, 1, 2, 2999, 1500}, block_rows);
  check_same(d, 200, {}, 5);
}

TEST_CASE("herding streamed: a block large enough to be shared by threads gives the same picks") {
  const Data d = clustered(9000, 6, 10, 21);
  const int before = omp_get_max_threads();
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    omp_set_num_threads(threads);
    check_same(d, 25, {}, 5000);
    check_same(d, 25, {8999, 3}, 9000);
  }
  omp_set_num_threads(before);
}

TEST_CASE("herding streamed: progress after every pick") {
  const Data d = gaussian(100, 3, 9);
  const RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 16);
  std::vector<std::pair<int64_t, int64_t>> seen;
  RunContext context;
  context.progress = [&](int64_t done, int64_t total) { seen.emplace_back(done, total); };
  run(d, 12, {}, &blocks, context);
  REQUIRE(seen.size() == 12);
  for (size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == std::make_pair(static_cast<int64_t>(i + 1), int64_t{12}));
}

TEST_CASE("herding streamed: a bad value is named by its row in the whole set, as in memory") {
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(), 2e18f}) {
    Data d = gaussian(40, 3, 1);
    d.x[12 * 3 + 1] = bad;
    const std::string in_memory = error_of([&] { run(d, 5, {}, nullptr); }).what();
    CHECK(in_memory.find("row 12 ") != std::string::npos);
    for (int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{40}}) {
      const RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
      CHECK(std::string(error_of([&] { run(d, 5, {}, &blocks); }).what()) == in_memory);
    }
  }
}

TEST_CASE("herding streamed: the registry's on-disk figure covers the per-point state and the summaries") {
  const MethodSpec& spec = method("herding");
  REQUIRE(spec.streams());
  CHECK(spec.memory_on_disk(1000000, 512, 1000) < spec.memory_in_memory(1000000, 512, 1000));
  for (int64_t dim : {int64_t{1}, int64_t{3}, int64_t{512}, int64_t{4096}}) {
    for (int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{100}, int64_t{10000}}) {
      CAPTURE(dim);
      CAPTURE(block_rows);
      const int64_t n = 1000003;
      const int64_t blocks = (n + block_rows - 1) / block_rows;
      const int64_t per_group = herding_group_blocks(dim, block_rows);
      const double groups = std::ceil(static_cast<double>(blocks) / static_cast<double>(per_group));
      const double summaries = groups * (static_cast<double>(dim) * 4.0 + 32.0);
      const double state = static_cast<double>(n) + summaries + static_cast<double>(dim) * 40.0;
      CHECK(state <= spec.memory_on_disk(n, dim, 0));
      // and groups are no larger than they must be
      if (per_group > 1) CHECK((per_group - 1) * block_rows * 4 < dim * 4 + 32);
    }
  }
}
