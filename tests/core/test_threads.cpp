// Tests for libsubset/core/threads.h: one thread count for OpenMP, OpenBLAS and registered runtimes.
#include <doctest/doctest.h>
#include <dlfcn.h>

#include <atomic>
#include <string>
#include <thread>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"

namespace {

// OpenMP's own answer, looked up at run time (libgomp is loaded through libsubset_core).
int omp_max_threads() {
  using Fn = int (*)();
  auto fn = reinterpret_cast<Fn>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  REQUIRE(reinterpret_cast<void*>(fn) != nullptr);
  return fn();
}

// Loads OpenBLAS into the process when it is installed, so that blas_threads() has something to
// report; returns false when it is not.
bool load_openblas() {
  for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"}) {
    if (dlopen(name, RTLD_NOW | RTLD_GLOBAL) && dlsym(RTLD_DEFAULT, "openblas_get_num_threads")) return true;
  }
  return false;
}

int g_listener_applied = -1;
int g_listener_calls = 0;

}  // namespace

TEST_CASE("hardware_threads is positive") {
  CHECK(subset::hardware_threads() >= 1);
  const unsigned hc = std::thread::hardware_concurrency();
  if (hc > 0) CHECK(subset::hardware_threads() == static_cast<int>(hc));
}

TEST_CASE("set_threads sets OpenMP and BLAS") {
  const bool have_openblas = load_openblas();
  for (int n : {1, 2, 1}) {
    CHECK(subset::set_threads(n) == n);
    CHECK(subset::current_threads() == n);
    CHECK(omp_max_threads() == n);
    if (have_openblas) CHECK(subset::blas_threads() == n);
    else CHECK(subset::blas_threads() == -1);
    const std::string d = subset::describe_thread_settings();
    CHECK(d.find("openmp=" + std::to_string(n)) == 0);
    CHECK(d.find(have_openblas ? " blas=" + std::to_string(n) : std::string(" blas=n/a")) != std::string::npos);
  }
  // 0 means all cores.
  CHECK(subset::set_threads(0) == subset::hardware_threads());
  CHECK(subset::current_threads() == subset::hardware_threads());
  CHECK(omp_max_threads() == subset::hardware_threads());
  subset::set_threads(1);
}

TEST_CASE("set_threads rejects negative counts and leaves the setting alone") {
  subset::set_threads(2);
  try {
    subset::set_threads(-1);
    FAIL("negative thread count accepted");
  } catch (const subset::Error& e) {
    CHECK(e.where() == "threads");
    CHECK(e.message().find(">= 0") != std::string::npos);
    CHECK(e.message().find("-1") != std::string::npos);
  }
  CHECK(subset::current_threads() == 2);
  CHECK(omp_max_threads() == 2);
  subset::set_threads(1);
}

TEST_CASE("thread listeners are applied on registration and on every change") {
  subset::set_threads(2);
  g_listener_calls = 0;
  subset::add_thread_listener(
      "fake", [](int n) {
        g_listener_applied = n;
        ++g_listener_calls;
      }, [] { return g_listener_applied * 10; });
  CHECK(g_listener_calls == 1);
  CHECK(g_listener_applied == 2);
  CHECK(subset::describe_thread_settings().find(" fake=20") != std::string::npos);

  subset::set_threads(1);
  CHECK(g_listener_calls == 2);
  CHECK(g_listener_applied == 1);
  CHECK(subset::describe_thread_settings().find(" fake=10") != std::string::npos);

  // Registering the same name again replaces the listener rather than adding a second one.
  subset::add_thread_listener(
      "fake", [](int n) {
        g_listener_applied = n;
        ++g_listener_calls;
      }, [] { return g_listener_applied * 10; });
  CHECK(g_listener_calls == 3);
  subset::set_threads(2);
  CHECK(g_listener_calls == 4);  // one listener called once, not two
  const std::string d = subset::describe_thread_settings();
  CHECK(d.find(" fake=20") != std::string::npos);
  CHECK(d.find(" fake=", d.find(" fake=") + 1) == std::string::npos);
  subset::set_threads(1);
}

TEST_CASE("BlasSingleThread scopes nest, overlap across threads, and defer set_threads to the last one") {
  if (!load_openblas()) {
    MESSAGE("OpenBLAS is not installed: the scopes leave other BLAS libraries alone");
    return;
  }
  subset::set_threads(2);
  REQUIRE(subset::blas_threads() == 2);
  {
    subset::BlasSingleThread outer;
    CHECK(subset::blas_threads() == 1);
    { subset::BlasSingleThread inner; }
    CHECK(subset::blas_threads() == 1);  // the inner scope's end does not end the outer one

    // Another thread's scope that outlives this thread's: the count comes back only after both.
    std::atomic<int> step{0};
    std::thread other([&] {
      subset::BlasSingleThread mine;
      step = 1;
      while (step.load() != 2) std::this_thread::yield();
    });
    while (step.load() != 1) std::this_thread::yield();
    subset::set_threads(2);  // deferred: scopes are open
    CHECK(subset::blas_threads() == 1);
    step = 2;
    other.join();
    CHECK(subset::blas_threads() == 1);  // `outer` is still open
  }
  CHECK(subset::blas_threads() == 2);
  {
    subset::BlasSingleThread scope;
    subset::set_threads(1);
  }
  CHECK(subset::blas_threads() == 1);  // the count set meanwhile, not the one saved before
  subset::set_threads(1);
}
