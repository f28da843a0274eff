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

// The linked BLAS's thread-count control: OpenBLAS's openblas_set/get_num_threads, looked up at
// run time (OpenBLAS is reached through Debian's libblas.so.3 alternative, so the same binary also
// runs on a BLAS without them). Both null where the BLAS has none.
struct BlasThreadControl {
  void (*set)(int) = nullptr;
  int (*get)() = nullptr;
};
BlasThreadControl blas_thread_control();
// For tests: use `control` instead of the looked-up one (an empty one: as if the BLAS had no
// thread control); null goes back to the looked-up one. Not while a BlasSingleThread is open.
void override_blas_thread_control_for_testing(const BlasThreadControl* control);

// The contract of BlasSingleThread. Within a scope, BLAS calls run on the calling thread only, so
// code that calls BLAS on fixed blocks from its own OpenMP threads gets the same rounding at any
// thread count (a multi-threaded BLAS call rounds differently depending on how it splits the
// work), and the BLAS's threads do not compete with ours.
// - Scopes nest and may be open in several threads at once (reference-counted under a mutex): the
//   BLAS's count is set to 1 when the first opens and restored when the last ends; a set_threads()
//   meanwhile is deferred to then.
// - The count is process-wide: any BLAS call in the process, inside a scope or not, runs
//   single-threaded while one is open. Library users who call BLAS themselves from another thread
//   meanwhile get one thread.
// - Where the BLAS has no thread control (blas_thread_control() empty) a scope does nothing, and
//   "the same bits at any thread count" is not promised for BLAS products: linalg::blas_info()
//   says so, and the methods that use BLAS record it in their stats (`blas`).
// It stays in core, not linalg, because set_threads() (core) must see the open scopes.
class BlasSingleThread {
 public:
  BlasSingleThread();
  ~BlasSingleThread();
  BlasSingleThread(const BlasSingleThread&) = delete;
  BlasSingleThread& operator=(const BlasSingleThread&) = delete;
};

}  // namespace subset
