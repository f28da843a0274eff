#pragma once
// How a run spread over several processes (MPI ranks) talks to itself. Methods and workflows
// reduce through this interface, so the same code runs alone (rank 0 of 1: every operation is a
// copy) or on N ranks and gives the same answer. The MPI implementation lives in libsubset/mpi
// (built with SUBSET_WITH_MPI); nothing else knows MPI.
//
// Every operation is collective unless it says otherwise: every rank calls it, in the same order.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace subset {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Copies `bytes` bytes at `data` on rank `root` to `data` on every rank.
  virtual void broadcast(void* data, size_t bytes, int root) const = 0;
  // Every rank's `bytes` bytes (the same count on every rank), one after the other in rank order,
  // into `out` (size() * bytes) on every rank.
  virtual void all_gather(const void* data, size_t bytes, void* out) const = 0;
  // Point to point (not collective): the chains of sums that must run in one fixed order.
  virtual void send(const void* data, size_t bytes, int to) const = 0;
  virtual void receive(void* data, size_t bytes, int from) const = 0;
  // Ends the whole job (every rank) with this exit status; for a failure on one rank, which the
  // others, waiting in a collective, would never see.
  [[noreturn]] virtual void abort(int status) const = 0;

  bool distributed() const { return size() > 1; }
};

// Rank 0 of 1.
const Communicator& single_process();
// The communicator of this process: single_process() unless a front-end set another (the `subset`
// binary built with SUBSET_WITH_MPI sets MPI_COMM_WORLD's). Set once, before any work.
const Communicator& world();
void set_world(const Communicator* communicator);

// The share of `items` (blocks, rows) that rank `rank` of `ranks` owns: [first, last), contiguous
// and in rank order, sizes differing by at most one.
std::pair<int64_t, int64_t> share_of(int64_t items, int rank, int ranks);

// `value` from every rank, in rank order.
template <class T>
std::vector<T> gather_all(const Communicator& comm, const T& value) {
  static_assert(std::is_trivially_copyable_v<T>, "gather_all copies bytes");
  std::vector<T> out(static_cast<size_t>(comm.size()));
  comm.all_gather(&value, sizeof(T), out.data());
  return out;
}

int64_t sum_over_ranks(const Communicator& comm, int64_t value);
double sum_over_ranks(const Communicator& comm, double value);
// Element-wise integer sums of equal-length vectors (exact in any order).
void sum_over_ranks(const Communicator& comm, std::vector<int64_t>& values);
// Element-wise float sums of equal-length vectors, added in rank order from rank 0's values: every
// rank gets the same bits (data-parallel training takes the same step on every rank with them).
void sum_over_ranks(const Communicator& comm, std::vector<float>& values);

// `values` (any length) on rank `root` copied to every rank.
template <class T>
void broadcast_vector(const Communicator& comm, std::vector<T>& values, int root) {
  static_assert(std::is_trivially_copyable_v<T>, "broadcast_vector copies bytes");
  auto count = static_cast<uint64_t>(values.size());
  comm.broadcast(&count, sizeof count, root);
  values.resize(static_cast<size_t>(count));
  if (count > 0) comm.broadcast(values.data(), sizeof(T) * values.size(), root);
}

// Every rank's `mine` (any length, which may differ), in rank order, on every rank.
template <class T>
std::vector<std::vector<T>> gather_vectors(const Communicator& comm, const std::vector<T>& mine) {
  static_assert(std::is_trivially_copyable_v<T>, "gather_vectors copies bytes");
  const std::vector<uint64_t> lengths = gather_all(comm, static_cast<uint64_t>(mine.size()));
  uint64_t longest = 0;
  for (uint64_t l : lengths) longest = l > longest ? l : longest;
  std::vector<T> padded(static_cast<size_t>(longest));
  if (!mine.empty()) std::memcpy(padded.data(), mine.data(), sizeof(T) * mine.size());
  std::vector<T> all(static_cast<size_t>(longest) * lengths.size());
  if (longest > 0) comm.all_gather(padded.data(), sizeof(T) * padded.size(), all.data());
  std::vector<std::vector<T>> out;
  for (size_t r = 0; r < lengths.size(); ++r)
    out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(r * longest),
                     all.begin() + static_cast<std::ptrdiff_t>(r * longest + lengths[r]));
  return out;
}

// The same, concatenated.
template <class T>
std::vector<T> concatenate_over_ranks(const Communicator& comm, const std::vector<T>& mine) {
  std::vector<T> out;
  for (const std::vector<T>& part : gather_vectors(comm, mine)) out.insert(out.end(), part.begin(), part.end());
  return out;
}

// A rank's contiguous share of a matrix's rows: rows [first_row, first_row + rows) of total_rows,
// the ranks' shares following one another in rank order (share_of). With comm null, or one rank,
// the share is every row.
struct RowShare {
  const Communicator* comm = nullptr;
  int64_t first_row = 0;
  int64_t rows = 0;
  int64_t total_rows = 0;
  bool distributed() const { return comm != nullptr && comm->distributed(); }
};

// Every rank's string, in rank order (for reports each rank keeps, such as its energy).
std::vector<std::string> gather_strings(const Communicator& comm, const std::string& mine);

// A floating-point accumulation that must add in one fixed order to equal the single-process one
// bit for bit: rank 0 runs `step` on `accumulator`, hands it to rank 1, which continues, and so on;
// the last rank's result is then copied to every rank. The ranks take turns (no speed-up), so keep
// it to passes that are cheap beside the work they serve.
template <class T, class Step>
void accumulate_in_rank_order(const Communicator& comm, std::vector<T>& accumulator, Step&& step) {
  static_assert(std::is_trivially_copyable_v<T>, "accumulate_in_rank_order copies bytes");
  const size_t bytes = sizeof(T) * accumulator.size();
  if (comm.rank() > 0 && bytes > 0) comm.receive(accumulator.data(), bytes, comm.rank() - 1);
  step(accumulator);
  if (comm.rank() + 1 < comm.size() && bytes > 0) comm.send(accumulator.data(), bytes, comm.rank() + 1);
  if (bytes > 0) comm.broadcast(accumulator.data(), bytes, comm.size() - 1);
}

}  // namespace subset
