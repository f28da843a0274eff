#include "call.h"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <exception>
#include <thread>

#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/io/atomic_output.h"

namespace py = pybind11;

namespace subset::python {

std::function<void(int64_t, int64_t)> ProgressRelay::counter() {
  if (!wanted()) return {};
  return [this](int64_t done, int64_t total) {
    std::lock_guard<std::mutex> lock(mutex_);
    count_ = {done, total};
  };
}

std::function<void(const std::string&)> ProgressRelay::lines() {
  if (!wanted()) return {};
  return [this](const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    lines_.push_back(line);
  };
}

void ProgressRelay::deliver() {
  if (!wanted()) return;
  std::optional<std::pair<int64_t, int64_t>> count;
  std::vector<std::string> lines;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    count.swap(count_);
    lines.swap(lines_);
  }
  for (const std::string& line : lines) callback_(py::none(), py::none(), line);
  if (count) callback_(count->first, count->second, py::none());
}

SignalsBlocked::SignalsBlocked() {
  sigset_t block;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &previous_);
}

SignalsBlocked::~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

void run_released(int threads, ProgressRelay& relay, const std::function<void()>& work) {
  std::mutex mutex;
  std::condition_variable finished;
  bool done = false;
  std::exception_ptr failure;
  // A flag left up by an earlier call (interrupted after its work had ended) must not cancel this one.
  clear_interrupt();
  std::thread worker;
  {
    SignalsBlocked blocked;
    worker = std::thread([&] {
      try {
        if (threads >= 0) set_threads(threads);  // per thread for OpenMP: this worker's team
        io::OutputTransaction outputs;
        work();
        outputs.commit();
      } catch (...) {
        failure = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex);
      done = true;
      finished.notify_all();
    });
  }
  std::optional<py::error_already_set> python_error;
  {
    py::gil_scoped_release release;
    std::unique_lock<std::mutex> lock(mutex);
    while (!done) {
      finished.wait_for(lock, std::chrono::milliseconds(100));
      if (done || python_error) continue;
      lock.unlock();
      {
        py::gil_scoped_acquire acquire;
        try {
          relay.deliver();
          if (PyErr_CheckSignals() != 0) throw py::error_already_set();
        } catch (py::error_already_set& e) {
          python_error.emplace(std::move(e));
          request_interrupt(SIGINT);
        }
      }
      lock.lock();
    }
  }
  worker.join();
  if (python_error) {
    clear_interrupt();
    throw std::move(*python_error);
  }
  if (failure) {
    clear_interrupt();
    std::rethrow_exception(failure);
  }
  relay.deliver();
}

void run_read(int64_t bytes, const std::function<void()>& work) {
  if (bytes > (int64_t{16} << 20)) {
    ProgressRelay relay{py::none()};
    run_released(-1, relay, work);
    return;
  }
  py::gil_scoped_release release;
  work();
}

}  // namespace subset::python
