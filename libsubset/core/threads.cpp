#include "libsubset/core/threads.h"

#include <dlfcn.h>
#include <omp.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"

namespace subset {
namespace {

struct Listener {
  std::string name;
  std::function<void(int)> apply;
  std::function<int()> query;
};

struct ThreadState {
  std::mutex mutex;
  int current = 0;
  std::vector<Listener> listeners;
  int blas_scopes = 0;    // BlasSingleThread scopes alive, in any thread
  int blas_restore = -1;  // OpenBLAS's count to restore when the last one ends
};

ThreadState& state() {
  static ThreadState s;
  return s;
}

BlasThreadControl look_up_blas_control() {
  BlasThreadControl c;
  c.set = reinterpret_cast<void (*)(int)>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
  c.get = reinterpret_cast<int (*)()>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
  if (!c.set || !c.get) c = {};  // half a control cannot restore what it changed
  return c;
}

std::atomic<const BlasThreadControl*> g_blas_override{nullptr};
BlasThreadControl g_blas_override_value;

void apply_blas(int n) {
  if (auto fn = blas_thread_control().set) fn(n);
}

}  // namespace

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

BlasThreadControl blas_thread_control() {
  if (const BlasThreadControl* o = g_blas_override.load()) return *o;
  // Not cached: a library loaded later (test_threads.cpp loads OpenBLAS by hand) is then seen.
  return look_up_blas_control();
}

void override_blas_thread_control_for_testing(const BlasThreadControl* control) {
  if (control) {
    g_blas_override_value = *control;
    g_blas_override.store(&g_blas_override_value);
  } else {
    g_blas_override.store(nullptr);
  }
}

int blas_threads() {
  auto fn = blas_thread_control().get;
  return fn ? fn() : -1;
}

BlasSingleThread::BlasSingleThread() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (s.blas_scopes++ > 0) return;
  s.blas_restore = blas_threads();
  if (s.blas_restore > 1) apply_blas(1);
}

BlasSingleThread::~BlasSingleThread() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  if (--s.blas_scopes == 0 && s.blas_restore > 1) apply_blas(s.blas_restore);
}

int set_threads(int requested) {
  SUBSET_CHECK_PARAM(requested >= 0, "threads", "thread count must be >= 0 (0 = all cores), got " << requested);
  // libgomp sizes a stack buffer by the team size: about 100000 threads overflow the stack (SIGSEGV).
  SUBSET_CHECK_PARAM(requested <= kMaxThreads, "threads",
               "thread count must be at most " << kMaxThreads << ", got " << requested);
  const int n = requested == 0 ? hardware_threads() : requested;
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  s.current = n;
  omp_set_num_threads(n);
  if (s.blas_scopes > 0) s.blas_restore = n;  // a BlasSingleThread scope is open: applied when it ends
  else apply_blas(n);
  for (auto& l : s.listeners) l.apply(n);
  return n;
}

int current_threads() {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  return s.current == 0 ? hardware_threads() : s.current;
}

void add_thread_listener(const std::string& runtime_name, std::function<void(int)> apply,
                         std::function<int()> query) {
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  Listener* slot = nullptr;
  for (auto& l : s.listeners)
    if (l.name == runtime_name) slot = &l;  // re-registration replaces: repeated setup is harmless
  if (!slot) slot = &s.listeners.emplace_back();
  *slot = Listener{runtime_name, std::move(apply), std::move(query)};
  slot->apply(s.current == 0 ? hardware_threads() : s.current);
}

std::string describe_thread_settings() {
  std::string out = "openmp=" + std::to_string(omp_get_max_threads());
  const int blas = blas_threads();
  out += " blas=" + (blas < 0 ? std::string("n/a") : std::to_string(blas));
  auto& s = state();
  std::lock_guard<std::mutex> lock(s.mutex);
  for (auto& l : s.listeners) out += " " + l.name + "=" + std::to_string(l.query());
  return out;
}

}  // namespace subset
