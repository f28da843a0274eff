#include "libsubset/nn/internal/classifier.h"

// Per-operator headers rather than <torch/torch.h> or <ATen/ATen.h>: a few seconds less per file.
#include <ATen/Context.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <torch/cuda.h>

#include <unistd.h>

#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/train_settings.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/linear.h"

namespace subset::nn::internal {
at::Tensor uniform_parameter(Rng& rng, int64_t rows, int64_t cols, double bound, c10::Device device) {
  const int64_t count = rows * (cols > 0 ? cols : 1);
  std::vector<float> values(static_cast<size_t>(count));
  for (auto& v : values) v = static_cast<float>((2.0 * rng.uniform01() - 1.0) * bound);
  const auto sizes = cols > 0 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{rows};
  // clone: from_blob only borrows `values`.
  at::Tensor t = at::from_blob(values.data(), sizes, at::TensorOptions().dtype(at::kFloat))
                     .to(device, at::kFloat, /*non_blocking=*/false, /*copy=*/true);
  return t.requires_grad_(true);
}

ModelKind parse_model_kind(const std::string& name, const std::string& where) {
  if (name == "linear") return ModelKind::Linear;
  if (name == "mlp") return ModelKind::Mlp;
  SUBSET_FAIL_PARAM(where, "unknown model '" << name << "' (expected linear or mlp)");
}

c10::Device parse_device(const std::string& name) {
  check_device_name(name);
  const c10::Device device(name);
  if (device.is_cpu()) return device;
  // hasCUDART: whether ATen's CUDA part is in this libtorch, GPUs or not; is_available: whether
  // one is visible. ATen's public API, rather than the CUDA hooks it asks.
  SUBSET_CHECK_PARAM(at::Context::hasCUDART(), "device",
                     "device '" << name << "' requested, but this libtorch build has no CUDA (use device cpu)");
  SUBSET_CHECK_PARAM(torch::cuda::is_available(), "device",
               "device '" << name << "' requested, but no CUDA GPU is visible to this libtorch");
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  SUBSET_CHECK_PARAM(!device.has_index() || device.index() < count, "device",
               "device '" << name << "' requested, but there " << (count == 1 ? "is " : "are ") << count
                          << " CUDA device" << (count == 1 ? "" : "s"));
  return device;
}

namespace {

// h * mask, mask 0 with probability p and 1 / (1 - p) otherwise, as torch's dropout (a Bernoulli
// draw divided by 1 - p). Each draw is 32 bits of the generator against p 2^32: two units a call.
at::Tensor apply_dropout(const at::Tensor& h, Dropout& d) {
  const at::Tensor mask = at::empty(h.sizes(), at::TensorOptions().dtype(at::kFloat));
  float* m = mask.data_ptr<float>();
  const int64_t n = mask.numel();
  const auto threshold = static_cast<uint64_t>(d.probability * 4294967296.0);
  const float kept = static_cast<float>(1.0 / (1.0 - d.probability));
  for (int64_t i = 0; i < n; i += 2) {
    const uint64_t bits = d.rng.next_u64();
    m[i] = (bits & 0xffffffffu) < threshold ? 0.0f : kept;
    if (i + 1 < n) m[i + 1] = (bits >> 32) < threshold ? 0.0f : kept;
  }
  return h.mul(h.device().is_cpu() ? mask : mask.to(h.device()));
}

}  // namespace

at::Tensor Classifier::hidden_features(const at::Tensor& x, Dropout* dropout) const {
  at::Tensor h = x;
  for (size_t l = 0; l + 2 < params.size(); l += 2) {
    h = linear(h, params[l], params[l + 1]).relu_();
    if (dropout && dropout->probability > 0) h = apply_dropout(h, *dropout);
  }
  return h;
}

at::Tensor Classifier::output_layer(const at::Tensor& hidden) const {
  const size_t last = params.size() - 2;
  return linear(hidden, params[last], params[last + 1]);
}

at::Tensor Classifier::forward(const at::Tensor& x, Dropout* dropout) const {
  return output_layer(hidden_features(x, dropout));
}

Classifier make_classifier(ModelKind kind, int64_t dim, int64_t hidden, int64_t classes, uint64_t seed,
                           c10::Device device, int64_t depth) {
  if (kind == ModelKind::Mlp) {
    // A network the machine cannot hold is refused before any allocation (--hidden 1000000000 on 6
    // features is 40 GB of weights alone).
    const double h = static_cast<double>(hidden);
    const double params = h * static_cast<double>(dim + 1) + static_cast<double>(depth - 1) * h * (h + 1) +
                          static_cast<double>(classes) * (h + 1);
    const double bytes = params * 4.0 * sizeof(float);  // weights, gradients, Adam's two moments
    const double memory = physical_memory_bytes();
    SUBSET_CHECK_PARAM(memory == 0 || bytes <= memory, depth > 1 ? "depth" : "hidden",
                 "an MLP of hidden width " << hidden << (depth > 1 ? " and depth " + std::to_string(depth) : "")
                                           << " on " << dim << " features needs about " << bytes / 1e9
                                           << " GB with its gradients and optimiser state, more than this machine's "
                                           << memory / 1e9 << " GB of memory");
  }
  Classifier m;
  m.kind = kind;
  m.dim = dim;
  m.hidden = kind == ModelKind::Mlp ? hidden : 0;
  m.depth = kind == ModelKind::Mlp ? depth : 0;
  m.classes = classes;
  Rng rng(seed);
  auto layer = [&](int64_t in, int64_t out) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    m.params.push_back(uniform_parameter(rng, out, in, bound, device));
    m.params.push_back(uniform_parameter(rng, out, 0, bound, device));
  };
  if (kind == ModelKind::Linear) {
    layer(dim, classes);
  } else {
    layer(dim, hidden);
    for (int64_t l = 1; l < depth; ++l) layer(hidden, hidden);
    layer(hidden, classes);
  }
  return m;
}

}  // namespace subset::nn::internal
