// Tests for libsubset/nn/embed.h: the embedding of row i is the trained model's penultimate
// activation of row i (recomputed with a plain libtorch forward of the returned parameters: the
// MLP's hidden layer, the ConvNet's autograd embed() path), its training is the trainer's own
// (same loss, steps and test accuracy as train_and_test), and what has no hidden layer is refused.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include "support/torch_doctest.h"

#include <cmath>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/embed.h"
#include "libsubset/nn/internal/network.h"
#include "support/error_of.h"

namespace {

using subset::nn::LabelledView;
using subset::nn::TrainSettings;

struct Rows {
  std::vector<float> x;
  std::vector<int64_t> y;
  LabelledView view(int64_t dim) const {
    return {x.data(), y.data(), nullptr, static_cast<int64_t>(y.size()), dim};
  }
};

// n rows of dim features, 3 classes: class c is offset by c in every coordinate, plus N(0, 1).
Rows toy(int64_t n, int64_t dim, uint64_t seed) {
  subset::Rng rng(seed);
  Rows r;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 3;
    r.y.push_back(c);
    for (int64_t j = 0; j < dim; ++j) r.x.push_back(static_cast<float>(c + rng.normal()));
  }
  return r;
}

at::Tensor tensor_of(const subset::FloatArray& a) {
  return at::from_blob(const_cast<float*>(a.values.data()), a.shape, at::TensorOptions().dtype(at::kFloat)).clone();
}

at::Tensor rows_of(const std::vector<float>& v, int64_t rows, int64_t cols) {
  return at::from_blob(const_cast<float*>(v.data()), {rows, cols}, at::TensorOptions().dtype(at::kFloat)).clone();
}

}  // namespace

TEST_CASE("embed mlp: row i is relu(W1 x_i + b1) of the trained model, for both splits") {
  const int64_t dim = 7;
  const Rows train = toy(300, dim, 1), test = toy(90, dim, 2);
  TrainSettings s;
  s.model = "mlp";
  s.schedule = "epochs";
  s.hidden = 24;
  s.epochs = 20;
  s.batch = 32;
  s.seed = 5;
  const subset::nn::EmbedResult r = subset::nn::train_and_embed(train.view(dim), test.view(dim), 3, s);
  REQUIRE(r.dim == 24);
  REQUIRE(r.train.size() == 300u * 24u);
  REQUIRE(r.test.size() == 90u * 24u);
  const at::Tensor w1 = tensor_of(r.model.arrays.at("w1")), b1 = tensor_of(r.model.arrays.at("b1"));
  CHECK(w1.sizes() == at::IntArrayRef({24, dim}));
  const auto oracle = [&](const Rows& rows) {
    return rows_of(rows.x, static_cast<int64_t>(rows.y.size()), dim).matmul(w1.t()).add(b1).clamp_min(0);
  };
  CHECK(rows_of(r.train, 300, 24).allclose(oracle(train), 1e-4, 1e-4));
  CHECK(rows_of(r.test, 90, 24).allclose(oracle(test), 1e-4, 1e-4));

  // The training is the trainer's: same draws, same result.
  const subset::nn::TrainOutcome plain = subset::nn::train_and_test(train.view(dim), test.view(dim), 3, s);
  CHECK(r.training.final_loss == doctest::Approx(plain.final_loss).epsilon(1e-6));
  CHECK(r.training.steps == plain.steps);
  CHECK(r.training.test_accuracy == doctest::Approx(plain.test_accuracy));
  CHECK(plain.test_accuracy > 0.6);  // chance is 1/3
}

TEST_CASE("embed convnet: row i is Network::embed of the trained parameters") {
  const int64_t dim = 64;  // 1 x 8 x 8
  const Rows train = toy(60, dim, 3), test = toy(30, dim, 4);
  TrainSettings s;
  s.model = "convnet";
  s.schedule = "epochs";
  s.epochs = 1;
  s.batch = 32;
  s.image_shape = {1, 8, 8};
  s.seed = 2;
  const subset::nn::EmbedResult r = subset::nn::train_and_embed(train.view(dim), test.view(dim), 3, s);
  REQUIRE(r.dim == 128);
  subset::nn::internal::Network net = subset::nn::internal::make_network(
      subset::nn::internal::NetKind::ConvNet, {1, 8, 8}, 3, 0, c10::Device(c10::kCPU));
  for (int64_t d = 0; d < net.depth; ++d) {
    const std::string k = std::to_string(d);
    net.params[4 * d] = tensor_of(r.model.arrays.at("conv_w" + k));
    net.params[4 * d + 1] = tensor_of(r.model.arrays.at("conv_b" + k));
    net.params[4 * d + 2] = tensor_of(r.model.arrays.at("norm_w" + k));
    net.params[4 * d + 3] = tensor_of(r.model.arrays.at("norm_b" + k));
  }
  const at::Tensor expected = net.embed(rows_of(test.x, 30, dim).view({30, 1, 8, 8})).detach();
  CHECK(rows_of(r.test, 30, 128).allclose(expected, 1e-4, 1e-4));
  const subset::nn::TrainOutcome plain = subset::nn::train_and_test(train.view(dim), test.view(dim), 3, s);
  CHECK(r.training.final_loss == doctest::Approx(plain.final_loss).epsilon(1e-6));
  CHECK(r.training.test_accuracy == doctest::Approx(plain.test_accuracy));
}

TEST_CASE("embed: a test split without rows or labels; refused models, schedules and labels") {
  const int64_t dim = 4;
  const Rows train = toy(30, dim, 1);
  TrainSettings s;
  s.schedule = "epochs";
  s.epochs = 1;
  s.hidden = 8;
  const LabelledView no_test{nullptr, nullptr, nullptr, 0, dim};
  const subset::nn::EmbedResult r = subset::nn::train_and_embed(train.view(dim), no_test, 3, s);
  CHECK(r.test.empty());
  CHECK(r.train.size() == 30u * 8u);
  s.model = "linear";
  CHECK(subset::test::error_of([&] { subset::nn::train_and_embed(train.view(dim), no_test, 3, s); })
            .message().find("mlp or convnet") != std::string::npos);
  s.model = "mlp";
  s.schedule = "early-stop";
  CHECK(subset::test::error_of([&] { subset::nn::train_and_embed(train.view(dim), no_test, 3, s); })
            .message().find("epochs") != std::string::npos);
  s.schedule = "epochs";
  CHECK(subset::test::error_of([&] { subset::nn::train_and_embed(train.view(dim), no_test, 2, s); })
            .message().find("label 2") != std::string::npos);
}
