#include "libsubset/workflows/internal/ordered_blocks.h"

#include <deque>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"

namespace subset::workflows::internal {
namespace {

// What a rank > 0 sends for each block: this header, then either the figures and the rows (sizes
// in the header: the receiver must know them before it receives), or a failure's message and place.
enum Kind : int64_t { kResult = 0, kError = 1, kParamError = 2, kInterrupted = 3 };

struct Header {
  int64_t kind = kResult;
  int64_t first = 0;   // figures, or the message's bytes
  int64_t second = 0;  // rows, or the place's bytes
  int64_t status = 0;  // an interruption's signal
};

void send_result(const Communicator& comm, const BlockResult& result) {
  const Header h{kResult, static_cast<int64_t>(result.figures.size()), static_cast<int64_t>(result.rows.size()), 0};
  comm.send(&h, sizeof h, 0);
  if (!result.figures.empty()) comm.send(result.figures.data(), result.figures.size() * sizeof(double), 0);
  if (!result.rows.empty()) comm.send(result.rows.data(), result.rows.size() * sizeof(float), 0);
}

void send_error(const Communicator& comm, const Error& e) {
  Header h{kError, static_cast<int64_t>(e.message().size()), static_cast<int64_t>(e.where().size()), 0};
  if (const auto* interrupted = dynamic_cast<const Interrupted*>(&e)) {
    h.kind = kInterrupted;
    h.status = interrupted->signal();
  } else if (dynamic_cast<const ParamError*>(&e)) {
    h.kind = kParamError;
  }
  comm.send(&h, sizeof h, 0);
  if (!e.message().empty()) comm.send(e.message().data(), e.message().size(), 0);
  if (!e.where().empty()) comm.send(e.where().data(), e.where().size(), 0);
}

// Rank 0: the next block from rank `from`, or the failure it met there, thrown.
void receive_result(const Communicator& comm, int from, BlockResult& result) {
  Header h;
  comm.receive(&h, sizeof h, from);
  if (h.kind == kResult) {
    result.figures.resize(static_cast<size_t>(h.first));
    result.rows.resize(static_cast<size_t>(h.second));
    if (h.first > 0) comm.receive(result.figures.data(), result.figures.size() * sizeof(double), from);
    if (h.second > 0) comm.receive(result.rows.data(), result.rows.size() * sizeof(float), from);
    return;
  }
  std::string message(static_cast<size_t>(h.first), '\0'), where(static_cast<size_t>(h.second), '\0');
  if (h.first > 0) comm.receive(message.data(), message.size(), from);
  if (h.second > 0) comm.receive(where.data(), where.size(), from);
  if (h.kind == kInterrupted) throw Interrupted(static_cast<int>(h.status));
  if (h.kind == kParamError) throw ParamError(where, message);
  throw Error(message, where);
}

}  // namespace

bool gather_blocks_in_order(const Communicator& comm, int64_t blocks, size_t ahead_bytes,
                            const std::function<BlockResult(int64_t)>& produce,
                            const std::function<void(int64_t, const BlockResult&)>& consume) {
  const auto [first, end] = share_of(blocks, comm.rank(), comm.size());
  if (comm.rank() == 0) {
    for (int64_t b = first; b < end; ++b) consume(b, produce(b));
    BlockResult received;
    for (int r = 1; r < comm.size(); ++r) {
      const auto [their_first, their_end] = share_of(blocks, r, comm.size());
      for (int64_t b = their_first; b < their_end; ++b) {
        receive_result(comm, r, received);
        consume(b, received);
      }
    }
    return true;
  }
  // Sends block by block (rank 0 takes them in order), keeping the ones it has not sent yet.
  std::deque<BlockResult> waiting;
  size_t waiting_bytes = 0;
  auto send_oldest = [&] {
    send_result(comm, waiting.front());
    waiting_bytes -= waiting.front().bytes();
    waiting.pop_front();
  };
  for (int64_t b = first; b < end; ++b) {
    try {
      waiting.push_back(produce(b));
    } catch (const Error& e) {
      while (!waiting.empty()) send_oldest();
      send_error(comm, e);
      return false;
    }
    waiting_bytes += waiting.back().bytes();
    while (waiting_bytes > ahead_bytes) send_oldest();
  }
  while (!waiting.empty()) send_oldest();
  return true;
}

void wait_for_rank0_to_fail(const Communicator& comm) {
  char never = 0;
  comm.receive(&never, sizeof never, 0);
  SUBSET_FAIL("rank " + std::to_string(comm.rank()), "rank 0 went on after this rank's failure");
}

}  // namespace subset::workflows::internal
