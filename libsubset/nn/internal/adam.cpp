#include "libsubset/nn/internal/adam.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/sqrt.h>
#include <ATen/ops/zeros_like.h>

#include <cmath>
#include <utility>

#include "libsubset/nn/internal/intra_op.h"
#include "libsubset/nn/internal/linear.h"

namespace subset::nn::internal {
namespace {

bool plain_cpu(const at::Tensor& t) {
  return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous();
}

// One pass over a parameter: g += wd p (Decay only); m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size m / (sqrt(v) + eps). Vectorised by the compiler: this file is built with
// -fno-math-errno (libsubset/CMakeLists.txt), without which sqrtf stays a scalar call. Decay is a
// template argument so that without weight decay the loop is the one of before it existed, bit
// for bit (g + 0 p is not g when p is not finite, and a branch per element could stop it being
// vectorised).
template <bool Decay>
void fused_update(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v,
                  int64_t begin, int64_t end, float b1, float b2, float step_size, float eps, float wd) {
  const float c1 = 1.0f - b1, c2 = 1.0f - b2;
  for (int64_t i = begin; i < end; ++i) {
    float gi = g[i];
    if constexpr (Decay) gi += wd * p[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step_size * mi / (std::sqrt(vi) + eps);
  }
}

}  // namespace

Adam::Adam(std::vector<at::Tensor> params, double learning_rate, double weight_decay, double beta1, double beta2,
           double eps)
    : params_(std::move(params)), lr_(learning_rate), weight_decay_(weight_decay), beta1_(beta1), beta2_(beta2),
      eps_(eps) {
  for (const auto& p : params_) {
    exp_avg_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous));
    exp_avg_sq_.push_back(at::zeros_like(p, at::MemoryFormat::Contiguous));
    denom_.push_back(plain_cpu(p) ? at::Tensor() : at::empty_like(p, at::MemoryFormat::Contiguous));
  }
}

void Adam::zero_grad() {
  for (auto& p : params_) p.mutable_grad().reset();
}

void Adam::step() {
  at::NoGradGuard no_grad;
  ++step_;
  const double correction1 = 1.0 - std::pow(beta1_, static_cast<double>(step_));
  const double correction2_sqrt = std::sqrt(1.0 - std::pow(beta2_, static_cast<double>(step_)));
  // torch: p -= lr / c1 * m / (sqrt(v) / sqrt(c2) + eps); the same, with sqrt(c2) moved into
  // the numerator so that the denominator is sqrt(v) + eps * sqrt(c2).
  const double step_size = lr_ / correction1 * correction2_sqrt;
  const double eps = eps_ * correction2_sqrt;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    const at::Tensor& raw_grad = p.grad();
    if (!raw_grad.defined()) continue;
    if (plain_cpu(p) && plain_cpu(raw_grad)) {
      float* pp = p.data_ptr<float>();
      const float* gp = raw_grad.data_ptr<float>();
      float* mp = exp_avg_[i].data_ptr<float>();
      float* vp = exp_avg_sq_[i].data_ptr<float>();
      // Element by element, so the split between threads changes no bit.
      const OmpThreads threads(bulk_threads());
      at::parallel_for(0, p.numel(), int64_t{1} << 15, [&](int64_t begin, int64_t end) {
        const auto update = weight_decay_ != 0 ? fused_update<true> : fused_update<false>;
        update(pp, gp, mp, vp, begin, end, static_cast<float>(beta1_), static_cast<float>(beta2_),
               static_cast<float>(step_size), static_cast<float>(eps), static_cast<float>(weight_decay_));
      });
      continue;
    }
    // Elsewhere (CUDA): six in-place kernels on preallocated state (seven with weight decay).
    const at::Tensor grad = weight_decay_ != 0 ? raw_grad.add(p, weight_decay_) : raw_grad;
    exp_avg_[i].lerp_(grad, 1.0 - beta1_);
    exp_avg_sq_[i].mul_(beta2_).addcmul_(grad, grad, 1.0 - beta2_);
    at::sqrt_out(denom_[i], exp_avg_sq_[i]).add_(eps);
    p.addcdiv_(exp_avg_[i], denom_[i], -step_size);
  }
}

}  // namespace subset::nn::internal
