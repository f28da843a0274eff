#pragma once
// Puts libtorch under subset::set_threads(): Debian's libtorch starts with one intra-op thread,
// so without this every nn workload would silently run single-threaded.

namespace subset::nn {

// Idempotent; applies the current thread count to libtorch at once and on every later change.
void enable_torch_thread_control();

}  // namespace subset::nn
