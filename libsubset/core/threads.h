#pragma once
// One thread count for every parallel runtime in the process: OpenMP, the BLAS behind Eigen/FAISS
// (OpenBLAS), and libtorch. Modules that own a runtime (nn for libtorch) register a listener so
// that core needs no dependency on them.
#include <functional>
#include <string>

namespace subset {

inline constexpr int kMaxThreads = 4096;

// 0 means "all cores". Returns the count actually applied. Throws on negative values and on more
// than kMaxThreads.
int set_threads(int requested);
// The count last applied by set_threads (all cores before any call).
int current_threads();
int hardware_threads();

// `apply` is called with the new count on every set_threads() and once on registration;
// `query` reports what the runtime itself says it uses (for describe_thread_settings).
void add_thread_listener(const std::string& runtime_name, std::function<void(int)> apply,
                         std::function<int()> query);

// What each runtime reports now, e.g. "openmp=2 blas=2 torch=2" (for --verbose and tests).
std::string describe_thread_settings();
// OpenBLAS's own idea of its thread count, or -1 when the loaded BLAS is not OpenBLAS.
int blas_threads();

// OpenBLAS runs single-threaded within this scope: code that calls BLAS on fixed blocks from its own
// OpenMP threads gets the same rounding at any thread count (a multi-threaded OpenBLAS call rounds
// differently depending on how it splits the work), and OpenBLAS's threads do not compete with ours.
// Scopes nest and may be open in several threads at once: the count is restored when the last one
// ends, and a set_threads() meanwhile takes effect then. OpenBLAS's count is process-wide, so BLAS
// called outside any scope while one is open also runs single-threaded. Other BLAS libraries are
// left alone.
class BlasSingleThread {
 public:
  BlasSingleThread();
  ~BlasSingleThread();
  BlasSingleThread(const BlasSingleThread&) = delete;
  BlasSingleThread& operator=(const BlasSingleThread&) = delete;
};

}  // namespace subset
