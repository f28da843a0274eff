#include "libsubset/nn/internal/intra_op.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

namespace subset::nn::internal {
namespace {

using OmpSetNumThreads = void (*)(int);
using OmpGetMaxThreads = int (*)();

// Looked up at run time like OpenBLAS's in core/threads.cpp: libgomp comes with libtorch. Both
// functions act on the calling thread's count only.
OmpSetNumThreads omp_set() {
  static const auto fn = reinterpret_cast<OmpSetNumThreads>(dlsym(RTLD_DEFAULT, "omp_set_num_threads"));
  return fn;
}
OmpGetMaxThreads omp_get() {
  static const auto fn = reinterpret_cast<OmpGetMaxThreads>(dlsym(RTLD_DEFAULT, "omp_get_max_threads"));
  return fn;
}

thread_local int t_suspended = 0;  // the count the outermost live SerialIntraOp suspended

}  // namespace

SerialIntraOp::SerialIntraOp() {
  // at::get_num_threads() first runs ATen's lazy per-thread initialisation, which would otherwise
  // overwrite the count set here on the first parallel kernel.
  const int n = at::get_num_threads();
#if AT_PARALLEL_OPENMP
  if (n > 1 && omp_set()) {
    omp_set()(1);
    saved_ = n;
    t_suspended = n;
  }
#else
  (void)n;
#endif
}

SerialIntraOp::~SerialIntraOp() {
  if (saved_ > 0) {
    omp_set()(saved_);
    t_suspended = 0;
  }
}

int intra_op_threads() { return t_suspended > 0 ? t_suspended : at::get_num_threads(); }

OmpThreads::OmpThreads(int threads) {
  if (!omp_set() || !omp_get()) return;
  const int current = omp_get()();
  if (threads > 0 && threads != current) {
    omp_set()(threads);
    saved_ = current;
  }
}

OmpThreads::~OmpThreads() {
  if (saved_ > 0) omp_set()(saved_);
}

}  // namespace subset::nn::internal
