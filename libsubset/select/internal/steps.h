#pragma once
// Step-synchronous loops on a team of OpenMP threads, for the greedy selectors (kcenter, herding):
// thousands of short steps, each a serial part on the calling thread, then a part shared by the
// team. Not installed: an implementation detail of libsubset/select.
//
// Why not one `#pragma omp parallel` per step: libgomp's threads spin-wait at the end of a region
// (for up to GOMP_SPINCOUNT rounds), and on a machine whose cores are busy with other work a
// spinning thread keeps its core while its partner waits to be scheduled: steps of a millisecond
// then take ten. The barrier below spins briefly, then sleeps on a condition variable, so a step
// costs microseconds on an idle machine and a waiting thread gives its core away on a busy one.
#include <omp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace subset::select::steps {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

class Barrier {
 public:
  explicit Barrier(int threads) : threads_(threads) {}
  void wait() {
    const uint32_t gen = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
      arrived_.store(0, std::memory_order_relaxed);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        generation_.store(gen + 1, std::memory_order_release);
      }
      cv_.notify_all();
      return;
    }
    for (int i = 0; i < kSpins; ++i) {
      if (generation_.load(std::memory_order_acquire) != gen) return;
      cpu_relax();
    }
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != gen; });
  }

 private:
  static constexpr int kSpins = 20000;  // tens of microseconds
  const int threads_;
  std::atomic<int> arrived_{0};
  std::atomic<uint32_t> generation_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

// For step s = 0, 1, ..., steps - 1: serial(s) on the calling thread (returning false ends the
// loop), then shared(thread, team) on every thread of the team, then after(s) on the calling
// thread. `threads` <= 1 runs everything on the calling thread. An exception from any part ends
// the loop at the next step boundary and is rethrown here (the first one).
template <typename Serial, typename Shared, typename After>
void run(int threads, int64_t steps, Serial&& serial, Shared&& shared, After&& after) {
  if (threads <= 1) {
    for (int64_t s = 0; s < steps; ++s) {
      if (!serial(s)) return;
      shared(0, 1);
      after(s);
    }
    return;
  }
  std::exception_ptr error;
  std::mutex error_mutex;
  std::atomic<bool> failed{false};
  bool stop = false;
  auto record = [&] {
    std::lock_guard<std::mutex> lock(error_mutex);
    if (!error) error = std::current_exception();
    failed.store(true);
  };
  Barrier* barrier = nullptr;
  int team = 1;
#pragma omp parallel num_threads(threads)
  {
#pragma omp single
    {
      team = omp_get_num_threads();
      barrier = new Barrier(team);
    }  // (implicit barrier)
    const int thread = omp_get_thread_num();
    for (int64_t s = 0; s < steps; ++s) {
      if (thread == 0) {
        try {
          stop = failed.load() || !serial(s);
        } catch (...) {
          record();
          stop = true;
        }
      }
      barrier->wait();
      if (stop) break;
      try {
        shared(thread, team);
      } catch (...) {
        record();
      }
      barrier->wait();
      if (thread == 0 && !failed.load()) {
        try {
          after(s);
        } catch (...) {
          record();
        }
      }
    }
  }
  delete barrier;
  if (error) std::rethrow_exception(error);
}

}  // namespace subset::select::steps
