// Tests for k-center greedy on features left on disk (select/kcenter_on_disk.cpp): the same picks,
// scores, weights and covering radius as the in-memory selector (itself checked against brute
// force in test_kcenter.cpp), for block sizes from one row to more than n, with already-selected
// points, ties and duplicates; whole blocks skipped where the data is clustered; bad values named
// by their row in the whole set.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "support/point_sets.h"
#include "support/select_rows.h"

using namespace subset::select;
using namespace subset::test;

namespace {

Selection run(const Data& d, int64_t budget, const std::vector<int64_t>& already, const RowBlocks* on_disk,
              uint64_t seed = 3) {
  return select_rows("kcenter", d, budget, already, on_disk, RunContext{seed, nullptr});
}

void check_same(const Data& d, int64_t budget, const std::vector<int64_t>& already, int64_t block_rows) {
  CAPTURE(block_rows);
  const Selection in_memory = run(d, budget, already, nullptr);
  const RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
  const Selection on_disk = run(d, budget, already, &blocks);
  CHECK(on_disk.indices == in_memory.indices);
  CHECK(on_disk.scores == in_memory.scores);
  CHECK(on_disk.weights == in_memory.weights);
  CHECK(on_disk.stats["covering_radius"].get<double>() == in_memory.stats["covering_radius"].get<double>());
  CHECK(on_disk.stats["blocks_scanned"].get<int64_t>() + on_disk.stats["blocks_skipped"].get<int64_t>() ==
        blocks.blocks() * static_cast<int64_t>(already.size() + static_cast<size_t>(budget)));
}

}  // namespace

TEST_CASE("kcenter on disk: the in-memory picks, scores, weights and radius at every block size") {
  const Data sets[] = {gaussian(500, 9, 1), clustered(700, 16, 12, 2), grid(400, 3, 3, 3), pixels(300, 40, 4)};
  for (const Data& d : sets) {
    CAPTURE(d.n);
    for (int64_t block_rows : {int64_t{1}, int64_t{7}, int64_t{64}, d.n - 1, d.n, d.n + 5}) {
      check_same(d, 25, {}, block_rows);
      check_same(d, 10, {d.n - 1, 4, 17}, block_rows);
    }
  }
}

TEST_CASE("kcenter on disk: clustered data leaves whole blocks unread, and the picks stay the same") {
  // Rows sorted by cluster, so that a block holds few centres' points and their bounds can hold.
  const Data d = clustered(4000, 8, 6, 11);
  std::vector<std::pair<float, int64_t>> order;
  for (int64_t i = 0; i < d.n; ++i) order.emplace_back(d.x[static_cast<size_t>(i * d.dim)], i);
  std::sort(order.begin(), order.end());
  Data sorted{d.n, d.dim, std::vector<float>(d.x.size())};
  for (int64_t i = 0; i < d.n; ++i)
    std::copy_n(&d.x[static_cast<size_t>(order[static_cast<size_t>(i)].second * d.dim)], d.dim,
                &sorted.x[static_cast<size_t>(i * d.dim)]);
  const RowBlocks blocks = RowBlocks::of_matrix(sorted.x.data(), sorted.n, sorted.dim, 100);
  const Selection on_disk = run(sorted, 40, {}, &blocks);
  CHECK(on_disk.indices == run(sorted, 40, {}, nullptr).indices);
  const auto skipped = on_disk.stats["blocks_skipped"].get<int64_t>();
  CHECK(skipped > 0);
  CHECK(blocks.blocks_read() == on_disk.stats["blocks_scanned"].get<int64_t>());
  MESSAGE("blocks skipped: " << skipped << " of " << 40 * blocks.blocks());
}

TEST_CASE("kcenter on disk: blocks kept in memory are read from disk once, with the same picks") {
  const Data d = clustered(1000, 8, 5, 13);
  RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 64);
  blocks.keep_in_memory(blocks.blocks());
  const Selection kept = run(d, 30, {}, &blocks);
  CHECK(kept.indices == run(d, 30, {}, nullptr).indices);
  // Every row once, plus the row of each new centre (read by itself).
  CHECK(blocks.rows_read() == d.n + 30);
  CHECK(blocks.blocks_read() == kept.stats["blocks_scanned"].get<int64_t>());

  RowBlocks some = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 64);
  some.keep_in_memory(4);
  CHECK(run(d, 30, {}, &some).indices == kept.indices);
  CHECK(some.rows_read() > d.n + 30);
}

TEST_CASE("kcenter on disk: a bad value is named by its row in the whole set") {
  Data d = gaussian(50, 4, 5);
  d.x[static_cast<size_t>(37 * 4 + 2)] = std::nanf("");
  const RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 8);
  try {
    run(d, 3, {}, &blocks);
    FAIL("no error");
  } catch (const subset::Error& e) {
    CHECK_MESSAGE(std::string(e.what()).find("row 37 ") != std::string::npos, e.what());
  }
}
