#include "libsubset/core/communicator.h"

#include <algorithm>
#include <cstdlib>

#include "libsubset/core/error.h"

namespace subset {
namespace {

class SingleProcess final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void broadcast(void*, size_t, int root) const override { check_rank(root); }
  void all_gather(const void* data, size_t bytes, void* out) const override {
    if (bytes > 0) std::memcpy(out, data, bytes);
  }
  void send(const void*, size_t, int to) const override { check_rank(to); }
  void receive(void*, size_t, int from) const override { check_rank(from); }
  [[noreturn]] void abort(int status) const override { std::_Exit(status); }

 private:
  static void check_rank(int r) { SUBSET_CHECK(r == 0, "communicator", "rank " << r << " of a single process"); }
};

const Communicator* current_world = nullptr;

}  // namespace

const Communicator& single_process() {
  static const SingleProcess one;
  return one;
}

const Communicator& world() { return current_world ? *current_world : single_process(); }

void set_world(const Communicator* communicator) { current_world = communicator; }

std::pair<int64_t, int64_t> share_of(int64_t items, int rank, int ranks) {
  SUBSET_CHECK(ranks >= 1 && rank >= 0 && rank < ranks && items >= 0, "communicator",
               "no share " << rank << " of " << ranks << " for " << items << " items");
  const auto part = [&](int r) { return items / ranks * r + std::min<int64_t>(r, items % ranks); };
  return {part(rank), part(rank + 1)};
}

int64_t sum_over_ranks(const Communicator& comm, int64_t value) {
  int64_t total = 0;
  for (int64_t v : gather_all(comm, value)) total += v;
  return total;
}

double sum_over_ranks(const Communicator& comm, double value) {
  double total = 0;
  for (double v : gather_all(comm, value)) total += v;  // rank order: the same sum on every rank
  return total;
}

void sum_over_ranks(const Communicator& comm, std::vector<int64_t>& values) {
  if (!comm.distributed()) return;
  const size_t n = values.size();
  std::vector<int64_t> all(n * static_cast<size_t>(comm.size()));
  comm.all_gather(values.data(), sizeof(int64_t) * n, all.data());
  std::fill(values.begin(), values.end(), 0);
  for (size_t r = 0; r < static_cast<size_t>(comm.size()); ++r)
    for (size_t i = 0; i < n; ++i) values[i] += all[r * n + i];
}

void sum_over_ranks(const Communicator& comm, std::vector<float>& values) {
  if (!comm.distributed()) return;
  const size_t n = values.size();
  std::vector<float> all(n * static_cast<size_t>(comm.size()));
  comm.all_gather(values.data(), sizeof(float) * n, all.data());
  std::copy_n(all.begin(), n, values.begin());
  for (size_t r = 1; r < static_cast<size_t>(comm.size()); ++r)
    for (size_t i = 0; i < n; ++i) values[i] += all[r * n + i];
}

std::vector<std::string> gather_strings(const Communicator& comm, const std::string& mine) {
  std::vector<std::string> out;
  for (const std::vector<char>& part : gather_vectors(comm, std::vector<char>(mine.begin(), mine.end())))
    out.emplace_back(part.begin(), part.end());
  return out;
}

}  // namespace subset
