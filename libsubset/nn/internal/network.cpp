#include "libsubset/nn/internal/network.h"

// Per-operator headers rather than <torch/torch.h> or <ATen/ATen.h>: a few seconds less per file.
#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/ones.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/first_block.h"
#include "libsubset/nn/internal/linear.h"
#include "libsubset/nn/internal/network_geometry.h"

namespace subset::nn::internal {

NetKind parse_net_kind(const std::string& name, const std::string& where) {
  if (name == "convnet") return NetKind::ConvNet;
  if (name == "mlp") return NetKind::Mlp;
  SUBSET_FAIL(where, "unknown network '" << name << "' (expected convnet or mlp)");
}

int64_t Network::feature_dim() const {
  if (kind == NetKind::Mlp) return width;
  const MapSizes s = map_sizes(input, input.height, input.width, depth);
  return width * s.h.back() * s.w.back();
}

at::Tensor Network::embed(const at::Tensor& x) const {
  if (kind == NetKind::Mlp) {
    const at::Tensor flat = x.reshape({x.size(0), -1});
    const at::Tensor h = at::relu(linear(flat, params[0], params[1]));
    return at::relu(linear(h, params[2], params[3]));
  }
  at::Tensor h = x;
  int64_t first = 0;
  // Data that needs no gradient (real batches, training on fixed images) takes the fused first
  // block (first_block.h); images being optimised keep libtorch's operators, which differentiate to
  // any order.
  if (!x.requires_grad() && x.device().is_cpu() && x.dim() == 4 && x.scalar_type() == at::kFloat &&
      params.front().scalar_type() == at::kFloat && input.channels <= kDirectChannels) {
    h = first_block(x, params[0], params[1], params[2], params[3], first_padding(input), kNormEps);
    first = 1;
  }
  for (int64_t d = first; d < depth; ++d) {
    const auto& p = params;
    const size_t i = static_cast<size_t>(4 * d);
    h = at::conv2d(h, p[i], p[i + 1], /*stride=*/{1, 1}, /*padding=*/d == 0 ? first_padding(input) : 1);
    if (first == 1) {
      h = norm_relu_pool(h, p[i + 2], p[i + 3], kNormEps);
      continue;
    }
    h = at::group_norm(h, width, p[i + 2], p[i + 3], kNormEps);
    h = at::relu(h);
    h = at::avg_pool2d(h, {2, 2}, {2, 2});
  }
  return h.reshape({h.size(0), -1});
}

at::Tensor Network::classify(const at::Tensor& features) const {
  const size_t i = kind == NetKind::Mlp ? 4 : static_cast<size_t>(4 * depth);
  return linear(features, params[i], params[i + 1]);
}


Network make_network(NetKind kind, const InputShape& input, int64_t classes, uint64_t seed, c10::Device device,
                     int64_t width, int64_t depth) {
  const std::string where = "network";
  SUBSET_CHECK(classes >= 1, where, "classes must be at least 1 (got " << classes << ")");
  SUBSET_CHECK(width >= 1, where, "width must be at least 1 (got " << width << ")");
  SUBSET_CHECK(input.channels >= 1 && input.height >= 1 && input.width >= 1, where,
               "input shape must be positive (got " << input.channels << "x" << input.height << "x" << input.width
                                                    << ")");
  Network net;
  net.kind = kind;
  net.input = input;
  net.classes = classes;
  net.width = width;
  net.depth = kind == NetKind::ConvNet ? depth : 0;
  Rng rng(seed);
  auto bound_of = [](int64_t fan_in) { return 1.0 / std::sqrt(static_cast<double>(fan_in)); };
  auto linear_layer = [&](int64_t in, int64_t out) {
    net.params.push_back(uniform_parameter(rng, out, in, bound_of(in), device));
    net.params.push_back(uniform_parameter(rng, out, 0, bound_of(in), device));
  };
  if (kind == NetKind::Mlp) {
    linear_layer(input.dim(), width);
    linear_layer(width, width);
    linear_layer(width, classes);
    return net;
  }
  SUBSET_CHECK(depth >= 1, where, "depth must be at least 1 (got " << depth << ")");
  const MapSizes sizes = map_sizes(input, input.height, input.width, depth);
  SUBSET_CHECK(sizes.h.back() >= 1 && sizes.w.back() >= 1, where,
               "input " << input.channels << "x" << input.height << "x" << input.width << " is too small for "
                        << depth << " poolings of the convnet");
  const auto floats = at::TensorOptions().dtype(at::kFloat).device(device);
  int64_t in = input.channels;
  for (int64_t d = 0; d < depth; ++d) {
    const int64_t fan_in = in * 9;
    const double bound = bound_of(fan_in);
    net.params.push_back(
        uniform_parameter(rng, width, fan_in, bound, device).detach().reshape({width, in, 3, 3}).requires_grad_(true));
    net.params.push_back(uniform_parameter(rng, width, 0, bound, device));
    net.params.push_back(at::ones({width}, floats).requires_grad_(true));
    net.params.push_back(at::zeros({width}, floats).requires_grad_(true));
    in = width;
  }
  linear_layer(net.feature_dim(), classes);
  return net;
}

}  // namespace subset::nn::internal
