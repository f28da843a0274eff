#pragma once
// How every long call of the Python module runs. The work goes to a worker thread that has SIGINT
// and SIGTERM blocked (so no signal handler ever runs inside library code, libtorch's kernels
// included), while the calling thread waits with the GIL released and wakes every 100 ms to hand
// the latest progress to Python and let Python run its signal handlers. When Python raises there
// (Ctrl-C: KeyboardInterrupt, or an exception from a progress callback) the library's interrupt
// flag goes up, the work unwinds at its next check_interrupted() (removing its partial outputs),
// and the Python exception propagates. Outputs are staged in an io::OutputTransaction and put in
// place only when the work succeeds, as the CLI does.
//
// The interrupt flag is process-wide: Ctrl-C cancels every call running at that moment.
#include <pybind11/pybind11.h>
#include <signal.h>

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace subset::python {

// Carries the library's progress callbacks (called on the worker thread) to a Python callable
// (called on the calling thread, with the GIL): callable(done, total, message). Counters come as
// (done, total, None); status lines (per epoch, per phase) as (None, None, text).
class ProgressRelay {
 public:
  explicit ProgressRelay(pybind11::object callback) : callback_(std::move(callback)) {}
  std::function<void(int64_t, int64_t)> counter();
  std::function<void(const std::string&)> lines();
  bool wanted() const { return !callback_.is_none(); }
  // With the GIL: calls the callback with what arrived since the last delivery (the latest count,
  // every line). May throw pybind11::error_already_set.
  void deliver();

 private:
  pybind11::object callback_;
  std::mutex mutex_;
  std::optional<std::pair<int64_t, int64_t>> count_;
  std::vector<std::string> lines_;
};

// Blocks SIGINT and SIGTERM in the calling thread while alive: a thread started meanwhile (the
// worker, the energy meter's sampler) inherits the mask, so the process's signals go to a thread
// that runs Python's handler, and no handler runs inside library code.
class SignalsBlocked {
 public:
  SignalsBlocked();
  ~SignalsBlocked();
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

// Runs `work` as described above with `threads` (0: all cores; negative: as they are) for every
// runtime, and returns
// when it is done; rethrows its exception or the Python one. Call with the GIL held.
void run_released(int threads, ProgressRelay& relay, const std::function<void()>& work);

// A read of `bytes` bytes: up to 16 MiB (milliseconds of work) it runs on the calling thread with
// the GIL released, since starting the worker would cost more than the read (a DataLoader reading
// rows one by one); a Ctrl-C meanwhile is raised as Python returns. Larger reads go through
// run_released.
void run_read(int64_t bytes, const std::function<void()>& work);

}  // namespace subset::python
