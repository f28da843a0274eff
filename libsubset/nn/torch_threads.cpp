#include "libsubset/nn/torch_threads.h"

// ATen/Parallel.h rather than torch/torch.h: same two functions, a fraction of the compile time.
#include <ATen/Parallel.h>

#include "libsubset/core/threads.h"

namespace subset::nn {

void enable_torch_thread_control() {
  add_thread_listener(
      "torch", [](int n) { at::set_num_threads(n); }, [] { return at::get_num_threads(); });
}

}  // namespace subset::nn
