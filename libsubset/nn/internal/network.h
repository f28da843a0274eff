#pragma once
// The networks of dataset condensation and its evaluation protocol (docs/methods/condensation.md):
// the reference ConvNet of Zhao & Bilen (DC, DSA, DM) and their MLP for non-image stores. Like
// Classifier, a network is a list of parameter tensors with a functional forward: gradient matching
// differentiates through the parameters, and DM draws a fresh network every iteration.
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace subset::nn::internal {

enum class NetKind { ConvNet, Mlp };

// "convnet" | "mlp"; throws subset::Error naming `where` otherwise.
NetKind parse_net_kind(const std::string& name, const std::string& where = "net");

struct InputShape {
  int64_t channels = 1;
  int64_t height = 1;
  int64_t width = 1;
  int64_t dim() const { return channels * height * width; }
};

// What embed_inference keeps from one call to the next: its per-thread maps, the weights it prepares
// from a network's parameters, and its output. DM embeds a real batch per class every iteration,
// and buffers of a megabyte or more allocated afresh each time are fresh pages for the kernel to
// zero (glibc maps each one apart above its 128 KiB threshold, or trims its heap below them): with
// a workspace, a loop of calls allocates nothing after its first. The prepared weights are redone
// when the parameters are other tensors or were modified in place. One thread at a time.
class EmbedWorkspace {
 public:
  EmbedWorkspace();
  ~EmbedWorkspace();
  EmbedWorkspace(const EmbedWorkspace&) = delete;
  EmbedWorkspace& operator=(const EmbedWorkspace&) = delete;
  struct Impl;

 private:
  friend struct Network;
  std::unique_ptr<Impl> impl_;
};

struct Network {
  NetKind kind = NetKind::ConvNet;
  InputShape input;
  int64_t classes = 0;
  int64_t width = 128;  // ConvNet: channels of every conv; MLP: hidden units
  int64_t depth = 3;    // ConvNet blocks
  // ConvNet, per block d: conv_w [width, in, 3, 3], conv_b [width], norm_w [width], norm_b [width];
  //          then fc_w [classes, feature_dim], fc_b [classes]            (4 * depth + 2 tensors)
  // MLP:     w1 [width, dim], b1, w2 [width, width], b2, w3 [classes, width], b3  (6 tensors)
  // float32, contiguous, requires_grad, on one device.
  std::vector<at::Tensor> params;

  // Length of embed()'s rows: width * (H/2^depth) * (W/2^depth) after the first conv's padding
  // (ConvNet), `width` (MLP).
  int64_t feature_dim() const;
  // The features before the classifier, differentiable to any order in both x and params.
  // x: [N, C, H, W] (ConvNet) or [N, dim] / [N, C, H, W] (MLP), float32 on the params' device.
  // ConvNet block: conv 3x3 (padding 1; 3 for the first conv of a 1-channel 28x28 input, which the
  // reference pads to 32x32) -> instance norm (eps 1e-5, affine) -> ReLU -> 2x2 average pooling.
  at::Tensor embed(const at::Tensor& x) const;
  at::Tensor classify(const at::Tensor& features) const;  // the final linear layer
  at::Tensor forward(const at::Tensor& x) const { return classify(embed(x)); }
  // embed() without autograd, for the large real batches of DM: processed in blocks of images with
  // fused kernels, equal to embed() up to float rounding. Never records a graph.
  at::Tensor embed_inference(const at::Tensor& x) const;
  // The same, with the workspace's buffers and prepared weights. The result is the workspace's
  // output tensor: it is reused by the next call only when nothing else holds it any more.
  at::Tensor embed_inference(const at::Tensor& x, EmbedWorkspace& workspace) const;
  c10::Device device() const { return params.front().device(); }
};

// A fresh network drawn from subset::Rng(seed), each conv and linear layer initialised like
// PyTorch's defaults (weights and biases U(-1/sqrt(fan_in), 1/sqrt(fan_in))), norms with weight 1
// and bias 0. Throws subset::Error when the input is too small for `depth` poolings (ConvNet).
Network make_network(NetKind kind, const InputShape& input, int64_t classes, uint64_t seed, c10::Device device,
                     int64_t width = 128, int64_t depth = 3);

}  // namespace subset::nn::internal
