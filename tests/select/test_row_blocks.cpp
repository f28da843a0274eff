// Tests for libsubset/select/row_blocks.h: blocks read whole or kept in memory, read ahead on a
// second thread or not, give the rows of the matrix; and every method that selects from disk gives
// its in-memory selection whichever way its blocks arrive.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "support/point_sets.h"
#include "support/select_rows.h"

using namespace subset::select;
using namespace subset::test;

namespace {

// Every block of `blocks`, through for_blocks in the given order, equals the matrix's rows.
void check_rows(const RowBlocks& blocks, const Data& d, const std::vector<int64_t>& which) {
  std::vector<int64_t> seen;
  blocks.for_blocks(which, [&](int64_t first, subset::MatrixViewF block) {
    seen.push_back(first / blocks.block_rows());
    for (int64_t r = 0; r < block.rows(); ++r)
      for (int64_t j = 0; j < d.dim; ++j)
        REQUIRE(block(r, j) == d.x[static_cast<size_t>((first + r) * d.dim + j)]);
  });
  CHECK(seen == which);
}

Selection select_with(const std::string& name, const Data& d, const RowBlocks* on_disk) {
  return select_rows(name, d, 12, {}, on_disk, RunContext{5, nullptr});
}

}  // namespace

TEST_CASE("row blocks: read whole, kept in memory, read ahead or not, they are the matrix's rows") {
  for (const int64_t dim : {int64_t{4}, int64_t{128}}) {  // 4: no read-ahead thread; 128: read ahead
    CAPTURE(dim);
    const Data d = gaussian(3000, dim, 9);
    RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 700);
    blocks.keep_in_memory(2);
    check_rows(blocks, d, {0, 1, 2, 3, 4});
    check_rows(blocks, d, {4, 1, 0, 3});  // kept blocks again, from memory
    CHECK(blocks.rows_read() == d.n + 700 + 3000 - 4 * 700);  // blocks 3 and 4 were read twice
    CHECK(blocks.blocks_read() == 9);
    CHECK(blocks.blocks_kept() == 2);
  }
}

TEST_CASE("row blocks: every method that streams selects as in memory with blocks kept and read ahead") {
  const Data d = clustered(4000, 40, 8, 21);  // blocks of 2000 x 40 = 80,000 floats: read ahead
  for (const auto& spec : methods()) {
    if (!spec.streams()) continue;
    CAPTURE(spec.name);
    const Selection in_memory = select_with(spec.name, d, nullptr);
    for (const int64_t kept : {int64_t{0}, int64_t{1}, int64_t{2}}) {
      CAPTURE(kept);
      RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 2000);
      blocks.keep_in_memory(kept);
      const Selection on_disk = select_with(spec.name, d, &blocks);
      CHECK(on_disk.indices == in_memory.indices);
      CHECK(on_disk.weights == in_memory.weights);
      CHECK(on_disk.scores == in_memory.scores);
    }
  }
}
