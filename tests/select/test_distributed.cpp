// Tests for the methods that run on several ranks (MethodSpec::distributes): each rank owns a share
// of the blocks (RowBlocks::share_among) and the ranks, here threads (support/thread_ranks.h), must
// find the single-process selection bit for bit, on every rank, whatever the share sizes, with ties,
// already selected rows and more ranks than blocks. The reference is the in-memory selector, which
// the on-disk tests compare with the brute-force definition.
#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "support/point_sets.h"
#include "support/select_rows.h"
#include "support/thread_ranks.h"

using namespace subset;
using namespace subset::select;
using namespace subset::test;

namespace {

const std::vector<std::string> kHeadlines = {"covering_radius", "mean_gap", "inertia", "iterations"};

// The selection every rank of `ranks` finds, blocks of block_rows rows, `kept` of them in memory.
std::vector<Selection> on_ranks(const std::string& name, const Data& d, int64_t budget, const std::vector<int64_t>& already,
                                int ranks, int64_t block_rows, int64_t kept) {
  std::vector<Selection> found(static_cast<size_t>(ranks));
  run_on_ranks(ranks, [&](const Communicator& comm) {
    RowBlocks blocks = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
    blocks.share_among(comm);
    blocks.keep_in_memory(kept);
    found[static_cast<size_t>(comm.rank())] = select_rows(name, d, budget, already, &blocks, RunContext{7, nullptr});
  });
  return found;
}

void check_same(const Selection& got, const Selection& want) {
  CHECK(got.indices == want.indices);
  CHECK(got.weights == want.weights);
  CHECK(got.scores == want.scores);
  CHECK(got.centroids == want.centroids);
  for (const std::string& key : kHeadlines) {
    CAPTURE(key);
    CHECK(got.stats.contains(key) == want.stats.contains(key));
    if (want.stats.contains(key)) CHECK(got.stats[key] == want.stats[key]);
  }
}

std::vector<std::string> distributed_methods() {
  std::vector<std::string> names;
  for (const auto& spec : methods())
    if (spec.distributes) names.push_back(spec.name);
  return names;
}

}  // namespace

TEST_CASE("communicator: shares cover the items in rank order, sizes differing by at most one") {
  for (const int64_t items : {int64_t{0}, int64_t{1}, int64_t{5}, int64_t{7}, int64_t{100}}) {
    for (const int ranks : {1, 2, 3, 8}) {
      int64_t next = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto [first, last] = share_of(items, r, ranks);
        CHECK(first == next);
        CHECK(last - first >= items / ranks);
        CHECK(last - first <= items / ranks + 1);
        next = last;
      }
      CHECK(next == items);
    }
  }
}

TEST_CASE("communicator: thread ranks gather, broadcast and sum in rank order") {
  run_on_ranks(3, [](const Communicator& comm) {
    CHECK(gather_all(comm, comm.rank() * 10) == std::vector<int>{0, 10, 20});
    std::vector<double> from_root{comm.rank() == 1 ? 2.5 : 0.0};
    broadcast_vector(comm, from_root, 1);
    CHECK(from_root == std::vector<double>{2.5});
    CHECK(sum_over_ranks(comm, int64_t{comm.rank() + 1}) == 6);
    CHECK(gather_strings(comm, std::string(static_cast<size_t>(comm.rank()), 'x')) ==
          std::vector<std::string>{"", "x", "xx"});
    // The chain visits the ranks in order: the running sum records who added when.
    std::vector<double> trail(1, 0.0);
    accumulate_in_rank_order(comm, trail, [&](std::vector<double>& t) { t[0] = t[0] * 10 + comm.rank() + 1; });
    CHECK(trail[0] == 123.0);
  });
}

TEST_CASE("communicator: float sums run in rank order on every rank; vectors of any length concatenate in rank order") {
  // 1e8 + 1 + (-1e8): from rank 0 on, (1e8 + 1) rounds to 1e8 in float and the sum is 0; any other
  // order (1e8 - 1e8 first) would give 1. Every rank must get the rank-order bits.
  const std::vector<float> addends{1e8f, 1.0f, -1e8f};
  run_on_ranks(3, [&](const Communicator& comm) {
    std::vector<float> v{addends[static_cast<size_t>(comm.rank())], static_cast<float>(comm.rank())};
    sum_over_ranks(comm, v);
    CHECK(v == std::vector<float>{(1e8f + 1.0f) + -1e8f, 3.0f});
    CHECK(v[0] == 0.0f);
    const std::vector<int64_t> mine(static_cast<size_t>(comm.rank()), int64_t{comm.rank()});
    CHECK(concatenate_over_ranks(comm, mine) == std::vector<int64_t>{1, 2, 2});
    CHECK(concatenate_over_ranks(comm, std::vector<float>{}).empty());
  });
  std::vector<float> alone{2.5f};
  sum_over_ranks(single_process(), alone);
  CHECK(alone == std::vector<float>{2.5f});
}

TEST_CASE("distributed selection: 2 and 3 ranks find the single-process selection on every rank") {
  set_threads(1);  // the ranks are threads already
  const std::vector<std::string> names = distributed_methods();
  REQUIRE(!names.empty());
  const Data clustered_points = clustered(1500, 6, 5, 3);
  const Data tied = grid(400, 3, 3, 11);  // equal distances and duplicates everywhere: the tie rule decides
  for (const std::string& name : names) {
    for (const Data* d : {&clustered_points, &tied}) {
      for (const auto& already : {std::vector<int64_t>{}, std::vector<int64_t>{3, d->n - 1}}) {
        const Selection want = select_rows(name, *d, 25, already, nullptr, RunContext{7, nullptr});
        for (const int ranks : {2, 3}) {
          // Blocks of 1 row, a few rows, about a share, one block for all, and a short last block
          // with more ranks than blocks (ranks without rows).
          for (const int64_t block_rows : {int64_t{1}, int64_t{37}, d->n / ranks + 1, d->n, d->n - 2}) {
            for (const int64_t kept : {int64_t{0}, int64_t{2}}) {
              CAPTURE(name);
              CAPTURE(d->n);
              CAPTURE(already.size());
              CAPTURE(ranks);
              CAPTURE(block_rows);
              CAPTURE(kept);
              for (const Selection& got : on_ranks(name, *d, 25, already, ranks, block_rows, kept)) check_same(got, want);
            }
          }
        }
      }
    }
  }
  set_threads(0);
}
