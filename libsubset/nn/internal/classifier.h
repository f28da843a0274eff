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

#include "libsubset/core/rng.h"

namespace subset::nn::internal {

enum class ModelKind { Linear, Mlp };

// "linear" | "mlp"; throws ParamError naming `where` otherwise.
ModelKind parse_model_kind(const std::string& name, const std::string& where = "model");

// "cpu" | "cuda" | "cuda:N" (check_device_name). Throws ParamError naming "device" for anything
// else, and for CUDA when this libtorch build has none or no GPU is visible.
c10::Device parse_device(const std::string& name);

// Dropout in a training forward pass (torch.nn.Dropout's): each hidden unit is zeroed with
// `probability`, the others scaled by 1 / (1 - probability), the draws taken from `rng` (the same
// masks for the same seed on every platform and thread count).
struct Dropout {
  double probability;
  Rng rng;
};

struct Classifier {
  ModelKind kind = ModelKind::Mlp;
  int64_t dim = 0;
  int64_t hidden = 0;  // MLP only: the width of each hidden layer
  int64_t depth = 0;   // MLP only: hidden layers
  int64_t classes = 0;
  // linear: {weight [classes, dim], bias [classes]}
  // mlp:    {w1 [hidden, dim], b1 [hidden], (w [hidden, hidden], b [hidden]) x (depth - 1),
  //          w_out [classes, hidden], b_out [classes]}
  // float32, contiguous, requires_grad, all on one device.
  std::vector<at::Tensor> params;

  // Logits [rows, classes] of x [rows, dim] (float32, on the parameters' device): output_layer of
  // hidden_features. linear: x W^T + b; mlp depth 1: relu(x W1^T + b1) W2^T + b2 (each layer one
  // internal::linear). With `dropout` (training) after each hidden ReLU; without, inference.
  at::Tensor forward(const at::Tensor& x, Dropout* dropout = nullptr) const;
  // The input of the last layer: x itself for the linear model, the last hidden ReLU's output (after
  // its dropout, when given) for the MLP.
  at::Tensor hidden_features(const at::Tensor& x, Dropout* dropout = nullptr) const;
  // The last layer alone, on hidden_features' output.
  at::Tensor output_layer(const at::Tensor& hidden) const;
  c10::Device device() const { return params.front().device(); }
};

// A [rows, cols] (or [rows] when cols == 0) float32 parameter on `device` of U(-bound, bound)
// draws from rng, in row-major order; requires_grad.
at::Tensor uniform_parameter(Rng& rng, int64_t rows, int64_t cols, double bound, c10::Device device);

// A fresh classifier (`depth` hidden layers of width `hidden` for the MLP). Each weight and bias is
// drawn like torch.nn.Linear's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)), but from
// subset::Rng(seed), layer after layer from the input: the same values on every platform and thread
// count, no global libtorch generator touched, and at depth 1 the network of before depth existed.
Classifier make_classifier(ModelKind kind, int64_t dim, int64_t hidden, int64_t classes, uint64_t seed,
                           c10::Device device, int64_t depth = 1);

}  // namespace subset::nn::internal
