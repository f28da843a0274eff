#pragma once
// The proxy classifiers (docs/methods/evaluate.md, "Proxy models"), shared by the trainer, the
// importance scores, the autoencoder and condensation. A model is a plain list of parameter
// tensors with a functional forward rather than a torch::nn::Module: this header stays cheap to
// include (no <torch/nn.h>), and the parameters can be handed to autograd or replaced wholesale
// (gradient matching) without module machinery.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>
#include <vector>

namespace subset {
class Rng;
}

namespace subset::nn::internal {

enum class ModelKind { Linear, Mlp };

// "linear" | "mlp"; throws ParamError naming `where` otherwise.
ModelKind parse_model_kind(const std::string& name, const std::string& where = "model");

// "cpu" | "cuda" | "cuda:N" (check_device_name). Throws ParamError naming "device" for anything
// else, and for CUDA when this libtorch build has none or no GPU is visible.
c10::Device parse_device(const std::string& name);

struct Classifier {
  ModelKind kind = ModelKind::Mlp;
  int64_t dim = 0;
  int64_t hidden = 0;  // MLP only
  int64_t classes = 0;
  // linear: {weight [classes, dim], bias [classes]}
  // mlp:    {w1 [hidden, dim], b1 [hidden], w2 [classes, hidden], b2 [classes]}
  // float32, contiguous, requires_grad, all on one device.
  std::vector<at::Tensor> params;

  // Logits [rows, classes] of x [rows, dim] (float32, on the parameters' device).
  // linear: x W^T + b; mlp: relu(x W1^T + b1) W2^T + b2 (each layer one internal::linear).
  at::Tensor forward(const at::Tensor& x) const;
  c10::Device device() const { return params.front().device(); }
};

// A [rows, cols] (or [rows] when cols == 0) float32 parameter on `device` of U(-bound, bound)
// draws from rng, in row-major order; requires_grad.
at::Tensor uniform_parameter(Rng& rng, int64_t rows, int64_t cols, double bound, c10::Device device);

// A fresh classifier. Each weight and bias is drawn like torch.nn.Linear's default initialisation,
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)), but from subset::Rng(seed): the same values on every
// platform and thread count, and no global libtorch generator is touched.
Classifier make_classifier(ModelKind kind, int64_t dim, int64_t hidden, int64_t classes, uint64_t seed,
                           c10::Device device);

}  // namespace subset::nn::internal
