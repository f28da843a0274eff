// k-means on several ranks (threads here, support/thread_ranks.h) where test_distributed.cpp's
// sets cannot tell a wrong order from the right one: centroid sums whose value depends on the order
// the points are added in, and enough centroids that LloydCore's sgemm blocks (about 2^21 / k rows)
// start on several ranks and run into the next ones. The reference is the in-memory selection.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/row_blocks.h"
#include "support/point_sets.h"
#include "support/select_rows.h"
#include "support/thread_ranks.h"

using namespace subset;
using namespace subset::select;
using namespace subset::test;

namespace {

std::vector<Selection> kmeans_on_ranks(const Data& d, int64_t budget, int ranks, int64_t block_rows) {
  std::vector<Selection> found(static_cast<size_t>(ranks));
  run_on_ranks(ranks, [&](const Communicator& comm) {
    RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
    blocks.share_among(comm);
    found[static_cast<size_t>(comm.rank())] = select_rows("kmeans", d, budget, {}, &blocks, RunContext{5, nullptr});
  });
  return found;
}

// The result as in memory; the work counted (summed over the ranks) as by one process streaming.
void check_same(const Selection& got, const Selection& want, const Selection& alone) {
  CHECK(got.indices == want.indices);
  CHECK(got.weights == want.weights);
  CHECK(got.centroids == want.centroids);
  for (const std::string key : {"inertia", "initial_inertia", "iterations", "relocated_clusters"}) {
    CAPTURE(key);
    CHECK(got.stats[key] == want.stats[key]);
  }
  for (const std::string key : {"seeding_distances", "representative_full_scans", "assignments_skipped"}) {
    CAPTURE(key);
    CHECK(got.stats[key] == alone.stats[key]);
  }
}

void check_ranks(const Data& d, int64_t budget, const std::vector<int64_t>& block_sizes) {
  const Selection want = select_rows("kmeans", d, budget, {}, nullptr, RunContext{5, nullptr});
  const RowBlocks one = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 64);
  const Selection alone = select_rows("kmeans", d, budget, {}, &one, RunContext{5, nullptr});
  check_same(alone, want, alone);
  for (const int ranks : {2, 3})
    for (const int64_t block_rows : block_sizes) {
      CAPTURE(ranks);
      CAPTURE(block_rows);
      for (const Selection& got : kmeans_on_ranks(d, budget, ranks, block_rows)) check_same(got, want, alone);
    }
}

}  // namespace

TEST_CASE("kmeans on ranks: the centroid sums add the points in index order across the ranks") {
  set_threads(1);
  // One cluster: 1e17, then ones, then -1e17. In index order the ones vanish into 1e17 (its ulp
  // is 16) and the mean is 0; sums per rank added afterwards would keep some of them.
  Data d{400, 2, std::vector<float>(800, 1.0f)};
  d.x[0] = d.x[1] = 1e17f;
  d.x[798] = d.x[799] = -1e17f;
  const Selection want = select_rows("kmeans", d, 1, {}, nullptr, RunContext{5, nullptr});
  REQUIRE(want.centroids.rows() == 1);
  CHECK(want.centroids(0, 0) == 0.0f);
  check_ranks(d, 1, {7, 200});
  set_threads(0);
}

TEST_CASE("kmeans on ranks: sgemm blocks that start on one rank and end on the next") {
  set_threads(1);
  // k = 1000: blocks of 2097 rows. On 3 ranks rank 0 assigns the first block, whose rows beyond
  // its own come from ranks 1 and 2; rank 1 assigns nothing; rank 2 the second block.
  const Data d = clustered(2500, 3, 40, 17);
  check_ranks(d, 1000, {1, 500});
  set_threads(0);
}

TEST_CASE("kmeans on ranks: more centroids than distinct points, empty clusters relocated") {
  set_threads(1);
  // 9 distinct points: the seeding ends on points that coincide with centres, and Lloyd moves the
  // empty centroids to the farthest points, then sums their clusters again from their blocks.
  const Data d = grid(600, 2, 3, 5);
  check_ranks(d, 20, {1, 37, 301});
  set_threads(0);
}
