// Tests for workflows/internal/ordered_blocks.h on 2 and 3 ranks, here threads (support/thread_ranks.h):
// each rank produces exactly its share_of the blocks, rank 0 consumes every block once, in block
// order, with what its owner produced (uneven sizes, empty parts, ranks with no block, any bound
// on what a rank keeps ahead), as one process consumes them; and a failure on a rank > 0 reaches
// rank 0 at its block, as the same error, after every block before it.
#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/workflows/internal/ordered_blocks.h"
#include "support/thread_ranks.h"

using namespace subset;
using subset::test::run_on_ranks;
using subset::workflows::internal::BlockResult;
using subset::workflows::internal::gather_blocks_in_order;

namespace {

// Block b's result, of a size that varies with b (no rows for some blocks, no figures for others).
BlockResult result_of(int64_t b) {
  BlockResult r;
  for (int64_t i = 0; i < (b * 7) % 5; ++i) r.rows.push_back(static_cast<float>(b * 100 + i) + 0.25f);
  if (b % 3 != 1) r.figures = {static_cast<double>(b) / 3.0, -static_cast<double>(b)};
  return r;
}

struct Consumed {
  std::vector<int64_t> blocks;
  std::vector<std::vector<float>> rows;
  std::vector<std::vector<double>> figures;
};

struct Run {
  Consumed consumed;                            // on rank 0
  std::vector<std::vector<int64_t>> produced;  // by rank
  std::vector<int> returned;                   // by rank: 1 true, 0 false, -1 threw
  std::vector<std::string> errors;             // by rank: "kind|message|where|status"
};

std::string describe(const Error& e) {
  const char* kind = dynamic_cast<const Interrupted*>(&e) ? "interrupted" : dynamic_cast<const ParamError*>(&e) ? "param" : "error";
  return std::string(kind) + "|" + e.message() + "|" + e.where() + "|" + std::to_string(e.exit_code());
}

// gather_blocks_in_order on `ranks` threads (0: one process); `fail_at` throws `failure` there.
template <class Failure = Error>
Run run(int ranks, int64_t blocks, size_t ahead, int64_t fail_at = -1, Failure failure = Error("bad", "here")) {
  Run out;
  const int size = ranks == 0 ? 1 : ranks;
  out.produced.assign(static_cast<size_t>(size), {});
  out.returned.assign(static_cast<size_t>(size), -1);
  out.errors.assign(static_cast<size_t>(size), "");
  std::mutex mutex;
  auto body = [&](const Communicator& comm) {
    const auto r = static_cast<size_t>(comm.rank());
    auto produce = [&](int64_t b) {
      out.produced[r].push_back(b);
      if (b == fail_at) throw failure;
      return result_of(b);
    };
    auto consume = [&](int64_t b, const BlockResult& result) {
      std::lock_guard<std::mutex> lock(mutex);
      CHECK(comm.rank() == 0);
      out.consumed.blocks.push_back(b);
      out.consumed.rows.push_back(result.rows);
      out.consumed.figures.push_back(result.figures);
    };
    try {
      out.returned[r] = gather_blocks_in_order(comm, blocks, ahead, produce, consume) ? 1 : 0;
    } catch (const Error& e) {
      out.errors[r] = describe(e);
    }
  };
  if (ranks == 0) body(single_process());
  else run_on_ranks(ranks, body);
  return out;
}

}  // namespace

TEST_CASE("gather_blocks_in_order: rank 0 consumes every rank's blocks in order, as one process does") {
  for (const int64_t blocks : {0, 1, 2, 3, 5, 8}) {
    const Run one = run(0, blocks, 0);
    REQUIRE(one.consumed.blocks.size() == static_cast<size_t>(blocks));
    for (int64_t b = 0; b < blocks; ++b) {
      CHECK(one.consumed.blocks[static_cast<size_t>(b)] == b);
      CHECK(one.consumed.rows[static_cast<size_t>(b)] == result_of(b).rows);
      CHECK(one.consumed.figures[static_cast<size_t>(b)] == result_of(b).figures);
    }
    for (const int ranks : {2, 3})
      for (const size_t ahead : {size_t{0}, size_t{20}, size_t{1} << 20}) {
        CAPTURE(blocks);
        CAPTURE(ranks);
        CAPTURE(ahead);
        const Run many = run(ranks, blocks, ahead);
        CHECK(many.consumed.blocks == one.consumed.blocks);
        CHECK(many.consumed.rows == one.consumed.rows);
        CHECK(many.consumed.figures == one.consumed.figures);
        for (int r = 0; r < ranks; ++r) {
          const auto [first, end] = share_of(blocks, r, ranks);
          std::vector<int64_t> own;
          for (int64_t b = first; b < end; ++b) own.push_back(b);
          CHECK(many.produced[static_cast<size_t>(r)] == own);  // its own blocks only, in order
          CHECK(many.returned[static_cast<size_t>(r)] == 1);
        }
      }
  }
}

TEST_CASE("gather_blocks_in_order: a failure on a rank > 0 is rank 0's, at its block") {
  // 7 blocks on 3 ranks: [0, 3), [3, 5), [5, 7); rank 2 fails at block 5, its first.
  for (const size_t ahead : {size_t{0}, size_t{1} << 20}) {
    const Run failed = run(3, 7, ahead, 5, Error("NaN or Inf in features at row 41", "s.h5:/features"));
    CHECK(failed.errors[0] == "error|NaN or Inf in features at row 41|s.h5:/features|1");
    CHECK(failed.consumed.blocks == std::vector<int64_t>{0, 1, 2, 3, 4});
    CHECK(failed.returned == std::vector<int>{-1, 1, 0});
    CHECK(failed.produced[2] == std::vector<int64_t>{5});  // nothing after its failure
  }
  // Rank 1 fails at its second block: its first still reaches rank 0, and rank 2's never do.
  const Run second = run(3, 7, 0, 4, Error("bad row", "x"));
  CHECK(second.consumed.blocks == std::vector<int64_t>{0, 1, 2, 3});
  CHECK(second.errors[0] == "error|bad row|x|1");
  // The same failure in one process, and on rank 0's own block.
  CHECK(run(0, 7, 0, 5, Error("bad row", "x")).errors[0] == "error|bad row|x|1");
  const Run own = run(2, 7, 0, 1, Error("bad row", "x"));
  CHECK(own.errors[0] == "error|bad row|x|1");
  CHECK(own.consumed.blocks == std::vector<int64_t>{0});
  // Its kind and exit status travel with it.
  CHECK(run(2, 4, 0, 3, ParamError("dim", "too large")).errors[0] == "param|too large|dim|1");
  CHECK(run(3, 4, 0, 3, Interrupted(15)).errors[0] == "interrupted|interrupted||143");
}
