#pragma once
// Work cut into blocks that the ranks (core/communicator.h) compute at once and rank 0 takes in
// block order, as one process would have computed them: `subset compress` transforms each rank's
// share of a store's blocks and rank 0 writes every block's codes, in row order, into the one
// output, adding each block's partial sums in the same order as one process does.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "libsubset/core/communicator.h"

namespace subset::workflows::internal {

// What one block gives: its figures (partial sums the consumer adds up in block order) and rows.
struct BlockResult {
  std::vector<double> figures;
  std::vector<float> rows;

  size_t bytes() const { return figures.size() * sizeof(double) + rows.size() * sizeof(float); }
};

// Collective. Blocks [0, blocks) are shared among the ranks as share_of shares them (contiguous,
// in rank order); each rank calls produce(b) for its own blocks, in order. Rank 0 calls
// consume(b, result) for every block, in block order: its own as it produces them, then each other
// rank's as that rank sends them. A rank > 0 keeps what it produced until rank 0 takes it, so that
// it computes while rank 0 does: past `ahead_bytes` of results kept it waits for rank 0 to take
// the oldest.
//
// A subset::Error thrown by produce on a rank > 0 goes to rank 0 in its block's place: rank 0
// throws it (the same message, place and exit status) when it comes to that block, so the job
// fails as one process fails, at the first bad block. That rank then produces nothing more and
// returns false: it must wait for rank 0 to end the job (wait_for_rank0_to_fail) rather than fail
// on its own, which could end the job before rank 0 has discarded its outputs. Otherwise true.
bool gather_blocks_in_order(const Communicator& comm, int64_t blocks, size_t ahead_bytes,
                            const std::function<BlockResult(int64_t)>& produce,
                            const std::function<void(int64_t, const BlockResult&)>& consume);

// On a rank > 0 that handed its failure to rank 0 (gather_blocks_in_order returned false): blocks
// until rank 0, failing with it, ends the whole job. Never returns.
[[noreturn]] void wait_for_rank0_to_fail(const Communicator& comm);

}  // namespace subset::workflows::internal
