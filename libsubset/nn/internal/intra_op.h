#pragma once
// How the training loop spreads work over threads. A step is a few large matrix products and a
// few dozen small kernels (elementwise, reductions, gathers). Only the products and two
// memory-bound kernels (the batch gather and Adam, see linear.h's bulk_threads) run on all threads
// (subset::set_threads); the small kernels run on the calling thread, so that a step opens four
// parallel regions instead of dozens. That matters twice over:
//  - Debian's libtorch parallelises with OpenMP and its OpenBLAS with its own pthreads, and both
//    pools spin after each call: a step alternating between them makes them fight for the same
//    cores (PyTorch's own MLP training is twice as slow at 2 threads as at 1 on 2 cores).
//  - On a machine where other processes keep the cores busy, each OpenMP region waits for its
//    slowest, descheduled thread: with every small kernel a region, one epoch took 100 times as
//    long as on an idle machine.
namespace subset::nn::internal {

// While alive, ATen's intra-op kernels run on the calling thread only (OpenMP's count for this
// thread is 1). A no-op unless libtorch uses OpenMP and more than one thread. Nests.
class SerialIntraOp {
 public:
  SerialIntraOp();
  ~SerialIntraOp();
  SerialIntraOp(const SerialIntraOp&) = delete;
  SerialIntraOp& operator=(const SerialIntraOp&) = delete;

 private:
  int saved_ = 0;
};

// The thread count libtorch is meant to use on this thread: the count a SerialIntraOp suspended,
// else at::get_num_threads().
int intra_op_threads();

// Sets this thread's OpenMP count to `threads` for the scope (for a matrix product inside a
// SerialIntraOp, or a callback that should see the full count).
class OmpThreads {
 public:
  explicit OmpThreads(int threads);
  ~OmpThreads();
  OmpThreads(const OmpThreads&) = delete;
  OmpThreads& operator=(const OmpThreads&) = delete;

 private:
  int saved_ = 0;
};

}  // namespace subset::nn::internal
