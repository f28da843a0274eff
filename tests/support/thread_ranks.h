#pragma once
// Ranks as threads of one test process: a Communicator (core/communicator.h) over shared memory, so
// that the unit tests run a distributed method on 2 or 3 "ranks" and compare it with one process,
// without MPI. run_on_ranks(P, fn) calls fn(comm) on P threads and returns when all are done; an
// exception on any rank is rethrown (the first one) after all have ended.
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "libsubset/core/communicator.h"

namespace subset::test {

class ThreadRanks {
 public:
  explicit ThreadRanks(int size) : size_(size), slots_(static_cast<size_t>(size)) {}

  class Rank final : public Communicator {
   public:
    Rank(ThreadRanks& shared, int rank) : shared_(shared), rank_(rank) {}
    int rank() const override { return rank_; }
    int size() const override { return shared_.size_; }
    void broadcast(void* data, size_t bytes, int root) const override {
      if (rank_ == root) shared_.slot(root).assign(static_cast<char*>(data), static_cast<char*>(data) + bytes);
      shared_.barrier();
      if (rank_ != root && bytes > 0) std::memcpy(data, shared_.slot(root).data(), bytes);
      shared_.barrier();
    }
    void all_gather(const void* data, size_t bytes, void* out) const override {
      shared_.slot(rank_).assign(static_cast<const char*>(data), static_cast<const char*>(data) + bytes);
      shared_.barrier();
      for (int r = 0; r < size(); ++r)
        if (bytes > 0) std::memcpy(static_cast<char*>(out) + static_cast<size_t>(r) * bytes, shared_.slot(r).data(), bytes);
      shared_.barrier();
    }
    void send(const void* data, size_t bytes, int to) const override {
      std::lock_guard<std::mutex> lock(shared_.mutex_);
      shared_.mail_[{rank_, to}].emplace_back(static_cast<const char*>(data), static_cast<const char*>(data) + bytes);
      shared_.changed_.notify_all();
    }
    void receive(void* data, size_t bytes, int from) const override {
      std::unique_lock<std::mutex> lock(shared_.mutex_);
      auto& box = shared_.mail_[{from, rank_}];
      shared_.changed_.wait(lock, [&] { return !box.empty(); });
      std::memcpy(data, box.front().data(), std::min(bytes, box.front().size()));
      box.pop_front();
    }
    [[noreturn]] void abort(int) const override { std::abort(); }

   private:
    ThreadRanks& shared_;
    int rank_;
  };

  // fn(comm) on `size` threads, one per rank.
  static void run(int size, const std::function<void(const Communicator&)>& fn) {
    ThreadRanks shared(size);
    std::vector<std::exception_ptr> failures(static_cast<size_t>(size));
    std::vector<std::thread> threads;
    for (int r = 0; r < size; ++r)
      threads.emplace_back([&, r] {
        const Rank comm(shared, r);
        try {
          fn(comm);
        } catch (...) {
          failures[static_cast<size_t>(r)] = std::current_exception();
        }
      });
    for (auto& t : threads) t.join();
    for (const auto& f : failures)
      if (f) std::rethrow_exception(f);
  }

 private:
  std::vector<char>& slot(int r) { return slots_[static_cast<size_t>(r)]; }
  void barrier() {
    std::unique_lock<std::mutex> lock(mutex_);
    const long generation = generation_;
    if (++waiting_ == size_) {
      waiting_ = 0;
      ++generation_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return generation_ != generation; });
    }
  }

  int size_;
  std::vector<std::vector<char>> slots_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  long generation_ = 0;
  std::map<std::pair<int, int>, std::deque<std::vector<char>>> mail_;
};

// fn(comm) on `ranks` threads, one per rank.
inline void run_on_ranks(int ranks, const std::function<void(const Communicator&)>& fn) { ThreadRanks::run(ranks, fn); }

}  // namespace subset::test
