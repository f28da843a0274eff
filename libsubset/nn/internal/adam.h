#pragma once
// Adam (Kingma & Ba) over a list of parameter tensors, as torch.optim.Adam with its defaults
// (betas 0.9/0.999, eps 1e-8, no amsgrad) and its weight_decay, the L2 form: the gradient g becomes
// g + weight_decay * p before the moments see it (AdamW would instead shrink p outside them). No
// allocation per step without weight decay (one per parameter with it, off the CPU). On
// the CPU each parameter's update is one fused, vectorised pass over p, g, m and v on
// bulk_threads() (torch 1.13's CPU Adam makes six passes and two temporaries); elsewhere six
// in-place kernels on preallocated state.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace subset::nn::internal {

class Adam {
 public:
  Adam(std::vector<at::Tensor> params, double learning_rate, double weight_decay = 0, double beta1 = 0.9,
       double beta2 = 0.999, double eps = 1e-8);

  // Drops the gradients (set to none: the next backward pass hands its gradient tensors over
  // instead of adding them to zeros).
  void zero_grad();
  // One update from the current gradients; parameters without a gradient are left as they are.
  void step();
  int64_t steps() const { return step_; }

 private:
  std::vector<at::Tensor> params_, exp_avg_, exp_avg_sq_, denom_;
  double lr_, weight_decay_, beta1_, beta2_, eps_;
  int64_t step_ = 0;
};

}  // namespace subset::nn::internal
