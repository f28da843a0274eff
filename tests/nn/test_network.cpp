// Tests for libsubset/nn/internal/network.h: the condensation ConvNet and MLP against a forward
// composed by hand in the test (instance norm from its formula), the fused inference path against
// embed(), double backward for gradient matching, seeded initialisation and rejected shapes.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/Parallel.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/avg_pool2d.h>
#include <ATen/ops/conv2d.h>
#include <ATen/ops/group_norm.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/relu.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/sqrt.h>
#include <torch/csrc/autograd/autograd.h>
#include "support/torch_doctest.h"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/first_block.h"
#include "libsubset/nn/internal/network.h"
#include "support/error_of.h"

namespace {

using subset::nn::internal::InputShape;
using subset::nn::internal::make_network;
using subset::nn::internal::NetKind;
using subset::nn::internal::Network;
using subset::test::error_of;

const c10::Device kCpu(c10::kCPU);

// float32 N(0, 1) * scale + shift draws from subset::Rng, in row-major order.
at::Tensor random_tensor(std::vector<int64_t> sizes, uint64_t seed, double scale = 1.0, double shift = 0.0) {
  int64_t count = 1;
  for (int64_t s : sizes) count *= s;
  std::vector<float> values(static_cast<size_t>(count));
  subset::Rng rng(seed);
  for (auto& v : values) v = static_cast<float>(shift + scale * rng.normal());
  return at::from_blob(values.data(), sizes, at::TensorOptions().dtype(at::kFloat)).clone();
}

// Random norm weights and biases, so that the affine part of the instance norm is exercised.
void randomise_norms(Network& net, uint64_t seed) {
  at::NoGradGuard no_grad;
  for (int64_t d = 0; d < net.depth; ++d) {
    const auto i = static_cast<size_t>(4 * d);
    net.params[i + 2].copy_(random_tensor({net.width}, seed + 2 * d, 0.5, 1.0));
    net.params[i + 3].copy_(random_tensor({net.width}, seed + 2 * d + 1, 0.5, 0.0));
  }
}

// The ConvNet's features composed by hand: conv, instance norm by its formula (biased variance per
// image and channel), affine, ReLU by clamping, 2x2 average pooling by reshaping.
at::Tensor hand_embed(const Network& net, const at::Tensor& x, int64_t first_padding) {
  at::Tensor h = x;
  for (int64_t d = 0; d < net.depth; ++d) {
    const auto i = static_cast<size_t>(4 * d);
    h = at::conv2d(h, net.params[i], net.params[i + 1], {1, 1}, d == 0 ? first_padding : 1);
    const at::Tensor mean = h.mean({2, 3}, /*keepdim=*/true);
    const at::Tensor var = (h - mean).pow(2).mean({2, 3}, /*keepdim=*/true);
    h = (h - mean) / at::sqrt(var + 1e-5);
    h = h * net.params[i + 2].view({1, -1, 1, 1}) + net.params[i + 3].view({1, -1, 1, 1});
    h = h.clamp_min(0.0);
    const int64_t n = h.size(0), c = h.size(1), hh = h.size(2) / 2, ww = h.size(3) / 2;
    h = h.slice(2, 0, 2 * hh).slice(3, 0, 2 * ww).reshape({n, c, hh, 2, ww, 2}).mean({3, 5});
  }
  return h.reshape({h.size(0), -1});
}

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

}  // namespace

TEST_CASE("network: parse_net_kind and feature_dim of the reference shapes") {
  CHECK(subset::nn::internal::parse_net_kind("convnet") == NetKind::ConvNet);
  CHECK(subset::nn::internal::parse_net_kind("mlp") == NetKind::Mlp);
  const auto e = error_of([] { subset::nn::internal::parse_net_kind("resnet", "--net"); });
  CHECK(e.where() == "--net");
  CHECK(make_network(NetKind::ConvNet, {1, 28, 28}, 10, 1, kCpu).feature_dim() == 2048);
  CHECK(make_network(NetKind::ConvNet, {3, 32, 32}, 10, 1, kCpu).feature_dim() == 2048);
  CHECK(make_network(NetKind::ConvNet, {1, 16, 16}, 10, 1, kCpu).feature_dim() == 128 * 2 * 2);
  CHECK(make_network(NetKind::Mlp, {1, 5, 7}, 4, 1, kCpu).feature_dim() == 128);
  const Network small = make_network(NetKind::ConvNet, {2, 12, 9}, 3, 1, kCpu, 8, 2);
  CHECK(small.feature_dim() == 8 * 3 * 2);
  CHECK(small.params.size() == 4 * 2 + 2);
  CHECK(small.params.back().size(0) == 3);
  CHECK(small.params[small.params.size() - 2].size(1) == small.feature_dim());
}

TEST_CASE("network: the ConvNet's embed equals a hand-composed conv, instance norm, ReLU, pooling") {
  struct Case {
    InputShape in;
    int64_t padding;
  };
  for (const Case& c : {Case{{1, 28, 28}, 3}, Case{{3, 32, 32}, 1}, Case{{1, 16, 16}, 1}, Case{{2, 13, 11}, 1}}) {
    CAPTURE(c.in.channels);
    CAPTURE(c.in.height);
    Network net = make_network(NetKind::ConvNet, c.in, 10, 7, kCpu, 16, c.in.height >= 16 ? 3 : 2);
    randomise_norms(net, 100);
    const at::Tensor x = random_tensor({5, c.in.channels, c.in.height, c.in.width}, 3);
    at::NoGradGuard no_grad;
    const at::Tensor got = net.embed(x), want = hand_embed(net, x, c.padding);
    REQUIRE((got.sizes() == want.sizes()));
    CHECK(got.size(1) == net.feature_dim());
    CHECK(max_abs(got - want) <= 1e-4 * max_abs(want));
    const at::Tensor logits = net.forward(x);
    CHECK(logits.size(1) == 10);
    const at::Tensor want_logits = want.matmul(net.params[net.params.size() - 2].t()) + net.params.back();
    CHECK(max_abs(logits - want_logits) <= 1e-4 * max_abs(want_logits));
  }
}

TEST_CASE("network: the MLP is Linear, ReLU, Linear, ReLU, then the classifier") {
  const Network net = make_network(NetKind::Mlp, {1, 4, 5}, 3, 2, kCpu);
  REQUIRE(net.params.size() == 6);
  const at::Tensor x = random_tensor({6, 1, 4, 5}, 4);
  at::NoGradGuard no_grad;
  const auto& p = net.params;
  const at::Tensor flat = x.reshape({6, 20});
  const at::Tensor h = (flat.matmul(p[0].t()) + p[1]).clamp_min(0).matmul(p[2].t()).add(p[3]).clamp_min(0);
  CHECK(max_abs(net.embed(x) - h) <= 1e-5 * max_abs(h));
  CHECK(max_abs(net.embed(flat) - h) <= 1e-5 * max_abs(h));
  const at::Tensor logits = h.matmul(p[4].t()) + p[5];
  CHECK(max_abs(net.forward(x) - logits) <= 1e-5 * max_abs(logits));
  CHECK(max_abs(net.embed_inference(x) - h) <= 1e-5 * max_abs(h));
}

TEST_CASE("network: embed_inference equals embed, for batches that are not a multiple of the block") {
  struct Case {
    InputShape in;
    int64_t batch;
  };
  for (const Case& c : {Case{{1, 28, 28}, 1}, Case{{1, 28, 28}, 37}, Case{{1, 28, 28}, 131}, Case{{3, 32, 32}, 3},
                        Case{{3, 32, 32}, 45}, Case{{1, 16, 16}, 9}, Case{{2, 13, 11}, 7},
                        Case{{5, 12, 12}, 10}, Case{{6, 11, 9}, 3}}) {
    CAPTURE(c.in.channels);
    CAPTURE(c.in.height);
    CAPTURE(c.batch);
    Network net = make_network(NetKind::ConvNet, c.in, 10, 11, kCpu);
    randomise_norms(net, 200);
    const at::Tensor x = random_tensor({c.batch, c.in.channels, c.in.height, c.in.width}, 5, 1.0, 0.2);
    const at::Tensor fast = net.embed_inference(x);
    CHECK_FALSE(fast.requires_grad());
    at::Tensor slow;
    {
      at::NoGradGuard no_grad;
      slow = net.embed(x);
    }
    REQUIRE((fast.sizes() == slow.sizes()));
    CHECK(max_abs(fast - slow) <= 1e-4 * max_abs(slow));
    // Per image too: a wrong block offset would show up in a single row.
    const at::Tensor row_err = (fast - slow).abs().amax(1), row_max = slow.abs().amax(1);
    CHECK((row_err <= row_max * 1e-4).all().item<bool>());
  }
}

TEST_CASE("network: embed_inference gives the same bits at 1 and 2 threads, also for a graph-recording input") {
  const Network net = make_network(NetKind::ConvNet, {1, 28, 28}, 10, 3, kCpu);
  const at::Tensor x = random_tensor({19, 1, 28, 28}, 8);
  const int before = at::get_num_threads();
  at::set_num_threads(1);
  const at::Tensor one = net.embed_inference(x);
  at::set_num_threads(2);
  const at::Tensor two = net.embed_inference(x.clone().requires_grad_(true));
  at::set_num_threads(before);
  CHECK_FALSE(two.requires_grad());
  CHECK(one.equal(two));  // fixed blocks: the same bits at any thread count
}

TEST_CASE("network: embed_inference through a workspace reuses its output and follows the parameters") {
  // One input channel (direct first conv) and three (Winograd throughout).
  for (const int64_t channels : {int64_t{1}, int64_t{3}}) {
    CAPTURE(channels);
    const Network net = make_network(NetKind::ConvNet, {channels, 12, 12}, 4, 11, kCpu, 16, 2);
    const at::Tensor x = random_tensor({11, channels, 12, 12}, 12), y = random_tensor({5, channels, 12, 12}, 13);
    subset::nn::internal::EmbedWorkspace workspace;
    const void* first = nullptr;
    {
      const at::Tensor a = net.embed_inference(x, workspace);
      CHECK(a.equal(net.embed_inference(x)));
      first = a.data_ptr();
    }
    // Released by the caller, the output is filled again in place (smaller batches fit in it) ...
    const at::Tensor b = net.embed_inference(y, workspace);
    CHECK(b.data_ptr() == first);
    CHECK(b.equal(net.embed_inference(y)));
    // ... but never while the caller still holds it.
    const at::Tensor c = net.embed_inference(x, workspace);
    CHECK(c.data_ptr() != b.data_ptr());
    CHECK(b.equal(net.embed_inference(y)));
    CHECK(c.equal(net.embed_inference(x)));
    // Weights modified in place, or another network: prepared again.
    {
      at::NoGradGuard no_grad;
      for (const auto& p : net.params) p.mul_(1.5);
    }
    CHECK(net.embed_inference(y, workspace).equal(net.embed_inference(y)));
    const Network other = make_network(NetKind::ConvNet, {channels, 12, 12}, 4, 12, kCpu, 16, 2);
    CHECK(other.embed_inference(y, workspace).equal(other.embed_inference(y)));
  }
}

TEST_CASE("network: double backward reaches the input images (gradient matching)") {
  for (const NetKind kind : {NetKind::ConvNet, NetKind::Mlp}) {
    const Network net = make_network(kind, {1, 12, 12}, 4, 5, kCpu, 8, 2);
    const at::Tensor x = random_tensor({3, 1, 12, 12}, 9).requires_grad_(true);
    const at::Tensor loss = net.forward(x).pow(2).sum();
    const auto grads = torch::autograd::grad({loss}, net.params, {}, /*retain_graph=*/true, /*create_graph=*/true);
    REQUIRE(grads.size() == net.params.size());
    at::Tensor match = grads[0].pow(2).sum();
    for (size_t i = 1; i < grads.size(); ++i) match = match + grads[i].pow(2).sum();
    match.backward();
    REQUIRE(x.grad().defined());
    CHECK(max_abs(x.grad()) > 0.0);
    CHECK(std::isfinite(x.grad().sum().item<double>()));
  }
}

TEST_CASE("network: seeded initialisation within PyTorch's default bounds") {
  const InputShape in{3, 16, 16};
  const Network a = make_network(NetKind::ConvNet, in, 10, 42, kCpu);
  const Network b = make_network(NetKind::ConvNet, in, 10, 42, kCpu);
  const Network c = make_network(NetKind::ConvNet, in, 10, 43, kCpu);
  REQUIRE(a.params.size() == 4 * 3 + 2);
  bool any_differs = false;
  for (size_t i = 0; i < a.params.size(); ++i) {
    CAPTURE(i);
    CHECK(a.params[i].equal(b.params[i]));
    CHECK(a.params[i].requires_grad());
    CHECK(a.params[i].is_contiguous());
    CHECK((a.params[i].scalar_type() == at::kFloat));
    any_differs = any_differs || !a.params[i].equal(c.params[i]);
  }
  CHECK(any_differs);
  CHECK_FALSE(a.params[0].equal(c.params[0]));
  int64_t in_channels = 3;
  for (int64_t d = 0; d < 3; ++d) {
    const auto i = static_cast<size_t>(4 * d);
    const double bound = 1.0 / std::sqrt(in_channels * 9.0);
    CHECK((a.params[i].sizes() == at::IntArrayRef({128, in_channels, 3, 3})));
    CHECK(max_abs(a.params[i]) <= bound);
    CHECK(max_abs(a.params[i]) > 0.9 * bound);  // the draws fill the range
    CHECK(max_abs(a.params[i + 1]) <= bound);
    CHECK(a.params[i + 2].eq(1.0).all().item<bool>());
    CHECK(a.params[i + 3].eq(0.0).all().item<bool>());
    in_channels = 128;
  }
  const double fc_bound = 1.0 / std::sqrt(static_cast<double>(a.feature_dim()));
  CHECK(max_abs(a.params[12]) <= fc_bound);
  CHECK(max_abs(a.params[13]) <= fc_bound);
  const Network m = make_network(NetKind::Mlp, {1, 5, 5}, 3, 42, kCpu);
  CHECK(max_abs(m.params[0]) <= 1.0 / 5.0);
  CHECK(max_abs(m.params[2]) <= 1.0 / std::sqrt(128.0));
}

TEST_CASE("network: shapes that cannot work are rejected") {
  CHECK(error_of([] { make_network(NetKind::ConvNet, {1, 7, 7}, 10, 1, kCpu); }).message().find("too small") !=
        std::string::npos);
  error_of([] { make_network(NetKind::ConvNet, {1, 32, 4}, 10, 1, kCpu); });
  make_network(NetKind::ConvNet, {1, 8, 8}, 10, 1, kCpu);  // 8 -> 4 -> 2 -> 1
  error_of([] { make_network(NetKind::ConvNet, {1, 28, 28}, 0, 1, kCpu); });
  error_of([] { make_network(NetKind::Mlp, {1, 28, 28}, 0, 1, kCpu); });
  error_of([] { make_network(NetKind::ConvNet, {0, 28, 28}, 10, 1, kCpu); });
  error_of([] { make_network(NetKind::ConvNet, {1, 28, 28}, 10, 1, kCpu, 0); });
  error_of([] { make_network(NetKind::ConvNet, {1, 28, 28}, 10, 1, kCpu, 128, 0); });
}

TEST_CASE("network: the fused first block equals libtorch's operators, forward and parameter gradients") {
  using namespace subset::nn::internal;
  at::manual_seed(7);
  for (auto [channels, side, pad] : {std::tuple{1L, 28L, 3L}, std::tuple{2L, 9L, 1L}}) {
    CAPTURE(channels);
    const at::Tensor x = at::randn({5, channels, side, side});
    const auto make = [&](std::vector<int64_t> shape) { return (at::randn(shape) * 0.3).requires_grad_(true); };
    const at::Tensor w = make({16, channels, 3, 3}), b = make({16}), gamma = (1 + make({16})).detach().requires_grad_(true),
                     beta = make({16});
    const at::Tensor reference =
        at::avg_pool2d(at::relu(at::group_norm(at::conv2d(x, w, b, {1, 1}, pad), 16, gamma, beta, 1e-5)), {2, 2}, {2, 2});
    const at::Tensor fused = first_block(x, w, b, gamma, beta, pad, 1e-5);
    REQUIRE(fused.sizes() == reference.sizes());
    CHECK((fused - reference).abs().max().item<double>() < 1e-4);
    const at::Tensor upstream = at::randn(reference.sizes());
    const auto expected = torch::autograd::grad({(reference * upstream).sum()}, {w, b, gamma, beta});
    const auto got = torch::autograd::grad({(fused * upstream).sum()}, {w, b, gamma, beta});
    for (size_t k = 0; k < 4; ++k) {
      CAPTURE(k);
      const double scale = std::max(1.0, expected[k].abs().max().item<double>());
      CHECK((got[k] - expected[k]).abs().max().item<double>() < 1e-3 * scale);
    }
  }
}

TEST_CASE("network: the fused norm, ReLU and pooling equal libtorch's operators, with their gradients") {
  using namespace subset::nn::internal;
  at::manual_seed(8);
  for (int64_t side : {8L, 9L}) {
    const at::Tensor y = at::randn({3, 6, side, side}).requires_grad_(true);
    const at::Tensor gamma = (1 + 0.3 * at::randn({6})).requires_grad_(true), beta = (0.3 * at::randn({6})).requires_grad_(true);
    const at::Tensor reference = at::avg_pool2d(at::relu(at::group_norm(y, 6, gamma, beta, 1e-5)), {2, 2}, {2, 2});
    const at::Tensor fused = norm_relu_pool(y, gamma, beta, 1e-5);
    REQUIRE(fused.sizes() == reference.sizes());
    CHECK((fused - reference).abs().max().item<double>() < 1e-5);
    const at::Tensor upstream = at::randn(reference.sizes());
    const auto expected = torch::autograd::grad({(reference * upstream).sum()}, {y, gamma, beta});
    const auto got = torch::autograd::grad({(fused * upstream).sum()}, {y, gamma, beta});
    for (size_t k = 0; k < 3; ++k) {
      CAPTURE(k);
      CHECK((got[k] - expected[k]).abs().max().item<double>() < 1e-4 * std::max(1.0, expected[k].abs().max().item<double>()));
    }
  }
}
