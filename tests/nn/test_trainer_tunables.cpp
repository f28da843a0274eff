// Tests for the proxy trainer's depth, dropout and Adam weight decay (issue 16): each does what it
// says, against an oracle (a forward pass written out with ATen; Adam's weight decay against
// torch::optim::Adam in test_trainer.cpp), and left at its default the trained networks are bit for bit those
// of before the option existed.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/matmul.h>
#include "support/torch_doctest.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "libsubset/core/train_settings.h"
#include "libsubset/nn/gemm_backend.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/train_loop.h"
#include "libsubset/nn/trainer.h"
#include "support/error_of.h"
#include "support/toy_classes.h"

namespace {

namespace in = subset::nn::internal;
using subset::nn::TrainSettings;
using subset::test::error_of;

const c10::Device kCpu("cpu");

// FNV-1a over the bytes of every parameter: any changed bit changes it.
uint64_t weights_checksum(const in::Classifier& model) {
  uint64_t h = 14695981039346656037ull;
  for (const at::Tensor& p : model.params) {
    const at::Tensor c = p.detach().contiguous();
    const auto* bytes = static_cast<const unsigned char*>(c.data_ptr());
    for (size_t i = 0; i < static_cast<size_t>(c.numel()) * sizeof(float); ++i) h = (h ^ bytes[i]) * 1099511628211ull;
  }
  return h;
}

uint64_t bits_of(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// A 16-wide MLP trained 3 epochs on the toy classes through the loop, from fixed seeds.
in::Classifier trained_mlp(const in::LoopSettings& loop, int64_t depth = 1) {
  const auto toy = subset::test::make_toy_classes(300, 5);
  in::Classifier model = in::make_classifier(in::ModelKind::Mlp, toy.dim, 16, 3, 7, kCpu, depth);
  in::train_classifier(model, in::training_tensors(toy.view(), kCpu), loop);
  return model;
}

in::LoopSettings toy_loop() {
  in::LoopSettings loop;
  loop.epochs = 3;
  loop.batch = 32;
  loop.learning_rate = 1e-2;
  loop.seed = 11;
  return loop;
}

TrainSettings toy_settings() {
  TrainSettings s;
  s.schedule = "epochs";
  s.epochs = 4;
  s.batch = 32;
  s.hidden = 32;
  s.seed = 9;
  return s;
}

double squared_norm(const in::Classifier& model) {
  double s = 0;
  for (const at::Tensor& p : model.params) s += p.detach().pow(2).sum().item<double>();
  return s;
}

}  // namespace

TEST_CASE("depth, dropout and weight decay at their defaults train the network of before, bit for bit") {
  // The network of before is the one trained with the options at the values that mean "absent"
  // (depth 1, no dropout, no weight decay): the defaults must take exactly that path. Constants
  // recorded on one machine are no oracle here: oneDNN picks its sgemm kernels by CPU model, and on
  // an AMD EPYC the same training ends a few ulps away from the Intel Xeon's recorded bits.
  in::LoopSettings explicit_loop = toy_loop();
  explicit_loop.weight_decay = 0;
  explicit_loop.dropout = 0;
  const uint64_t by_default = weights_checksum(trained_mlp(toy_loop()));
  CHECK(by_default == weights_checksum(trained_mlp(explicit_loop, 1)));
  // A decay or a dropout that were applied at their defaults would move the weights.
  in::LoopSettings decayed = explicit_loop;
  decayed.weight_decay = 1e-2;
  CHECK(by_default != weights_checksum(trained_mlp(decayed, 1)));

  const auto toy = subset::test::make_toy_classes(300, 5);
  TrainSettings given = toy_settings();
  given.depth = 1;
  given.dropout = 0;
  given.weight_decay = 0.0;
  const auto defaults = subset::nn::train_and_test(toy.view(), toy.view(), 3, toy_settings());
  const auto explicitly = subset::nn::train_and_test(toy.view(), toy.view(), 3, given);
  CHECK(bits_of(defaults.final_loss) == bits_of(explicitly.final_loss));
  CHECK(defaults.test_accuracy == explicitly.test_accuracy);
}

TEST_CASE("depth: hidden layers of the same width, each a ReLU, drawn layer after layer") {
  const in::Classifier one = in::make_classifier(in::ModelKind::Mlp, 5, 4, 3, 7, kCpu);
  const in::Classifier three = in::make_classifier(in::ModelKind::Mlp, 5, 4, 3, 7, kCpu, 3);
  CHECK(one.depth == 1);
  CHECK(three.depth == 3);
  REQUIRE(three.params.size() == 8);
  const std::vector<std::vector<int64_t>> shapes = {{4, 5}, {4}, {4, 4}, {4}, {4, 4}, {4}, {3, 4}, {3}};
  for (size_t i = 0; i < shapes.size(); ++i) CHECK(three.params[i].sizes().vec() == shapes[i]);
  // The first layer comes first from the seed, so it is depth 1's.
  CHECK(three.params[0].equal(one.params[0]));
  CHECK(three.params[1].equal(one.params[1]));

  // Oracle: the layers written out with ATen's matmul.
  std::vector<float> xs(6 * 5);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(std::sin(0.7 * static_cast<double>(i)));
  const at::Tensor x = at::from_blob(xs.data(), {6, 5}, at::TensorOptions().dtype(at::kFloat)).clone();
  at::Tensor h = x;
  const auto& p = three.params;
  for (size_t l = 0; l < 6; l += 2) h = at::matmul(h, p[l].detach().t()).add(p[l + 1].detach()).relu();
  const at::Tensor expected = at::matmul(h, p[6].detach().t()).add(p[7].detach());
  CHECK(three.forward(x).detach().allclose(expected, 1e-5, 1e-6));
  CHECK(three.hidden_features(x).detach().allclose(h, 1e-5, 1e-6));
}

TEST_CASE("depth 2 learns the separable toy classes") {
  const auto train = subset::test::make_toy_classes(300, 5), test = subset::test::make_toy_classes(150, 6);
  TrainSettings s = toy_settings();
  s.depth = 2;
  const auto out = subset::nn::train_and_test(train.view(), test.view(), 3, s);
  CHECK(out.test_accuracy > 0.9);  // chance is 1/3
  s.depth = 1;
  CHECK(subset::nn::train_and_test(train.view(), test.view(), 3, s).final_loss != out.final_loss);
}

TEST_CASE("dropout: torch's masks in training steps, none in inference") {
  const in::Classifier model = in::make_classifier(in::ModelKind::Mlp, 5, 512, 3, 7, kCpu, 2);
  std::vector<float> xs(64 * 5);
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = static_cast<float>(std::cos(0.3 * static_cast<double>(i)));
  const at::Tensor x = at::from_blob(xs.data(), {64, 5}, at::TensorOptions().dtype(at::kFloat)).clone();

  // Inference: deterministic and without dropout.
  const at::Tensor plain = model.forward(x).detach();
  CHECK(model.forward(x).detach().equal(plain));
  in::Dropout none{0.0, subset::Rng(1)};
  CHECK(model.forward(x, &none).detach().equal(plain));

  // One hidden layer, dropped: each unit zero or twice its undropped value, about half of them zero.
  const in::Classifier shallow = in::make_classifier(in::ModelKind::Mlp, 5, 512, 3, 7, kCpu);
  const at::Tensor h = shallow.hidden_features(x).detach();
  in::Dropout half{0.5, subset::Rng(1)};
  const at::Tensor dropped = shallow.hidden_features(x, &half).detach();
  const at::Tensor zeroed = dropped.eq(0).logical_and(h.ne(0));
  const at::Tensor kept = dropped.ne(0);
  CHECK(dropped.masked_select(kept).allclose(h.masked_select(kept).mul(2)));
  const double active = h.ne(0).sum().item<double>();
  CHECK(zeroed.sum().item<double>() / active == doctest::Approx(0.5).epsilon(0.05));
  // Fresh masks at every pass; the same masks from the same seed.
  CHECK(!shallow.hidden_features(x, &half).detach().equal(dropped));
  in::Dropout again{0.5, subset::Rng(1)};
  CHECK(shallow.hidden_features(x, &again).detach().equal(dropped));

  // Training: dropout changes the trained weights; the same seed, the same weights.
  in::LoopSettings loop = toy_loop();
  loop.dropout = 0.5;
  const in::Classifier with = trained_mlp(loop, 2);
  CHECK(weights_checksum(with) == weights_checksum(trained_mlp(loop, 2)));
  CHECK(weights_checksum(with) != weights_checksum(trained_mlp(toy_loop(), 2)));
  const auto train = subset::test::make_toy_classes(300, 5), test = subset::test::make_toy_classes(150, 6);
  TrainSettings s = toy_settings();
  s.dropout = 0.5;
  CHECK(subset::nn::train_and_test(train.view(), test.view(), 3, s).test_accuracy > 0.9);
}

TEST_CASE("weight decay shrinks the trained weights of mlp and linear") {
  for (bool mlp : {true, false}) {
    CAPTURE(mlp);
    const auto toy = subset::test::make_toy_classes(300, 5);
    auto trained = [&](double wd) {
      in::Classifier model =
          in::make_classifier(mlp ? in::ModelKind::Mlp : in::ModelKind::Linear, toy.dim, 16, 3, 7, kCpu);
      in::LoopSettings loop = toy_loop();
      loop.weight_decay = wd;
      in::train_classifier(model, in::training_tensors(toy.view(), kCpu), loop);
      return squared_norm(model);
    };
    CHECK(trained(0.5) < 0.8 * trained(0.0));
  }
  const auto toy = subset::test::make_toy_classes(300, 5);
  TrainSettings s = toy_settings();
  s.weight_decay = 0.01;
  const auto decayed = subset::nn::train_and_test(toy.view(), toy.view(), 3, s);
  CHECK(bits_of(decayed.final_loss) != bits_of(subset::nn::train_and_test(toy.view(), toy.view(), 3, toy_settings()).final_loss));
}

TEST_CASE("depth, dropout and weight-decay: declared once, checked, defaults by model") {
  const auto& schema = subset::train_schema().schema();
  for (const char* name : {"depth", "dropout"}) {
    CAPTURE(name);
    CHECK(schema.find(name)->applies_to("mlp"));
    CHECK(!schema.find(name)->applies_to("linear"));
    CHECK(!schema.find(name)->applies_to("convnet"));
  }
  for (const char* model : {"linear", "mlp", "convnet"}) CHECK(schema.find("weight-decay")->applies_to(model));

  TrainSettings s;
  CHECK(subset::resolve_defaults(s).weight_decay == 0.0);
  s.model = "linear";
  CHECK(subset::resolve_defaults(s).weight_decay == 0.0);
  s.model = "convnet";
  CHECK(subset::resolve_defaults(s).weight_decay == 5e-4);
  s.weight_decay = 0.0;
  CHECK(subset::resolve_defaults(s).weight_decay == 0.0);  // given: kept

  auto where = [](void (*change)(TrainSettings&)) {
    TrainSettings t;
    change(t);
    return error_of([&] { subset::check_train_settings(t); }).where();
  };
  CHECK(where([](TrainSettings& t) { t.depth = 0; }) == "depth");
  CHECK(where([](TrainSettings& t) { t.dropout = 1; }) == "dropout");
  CHECK(where([](TrainSettings& t) { t.dropout = -0.1; }) == "dropout");
  CHECK(where([](TrainSettings& t) { t.weight_decay = -1.0; }) == "weight-decay");
  CHECK(where([](TrainSettings& t) { t.model = "linear", t.depth = 2; }) == "depth");
  CHECK(where([](TrainSettings& t) { t.model = "linear", t.dropout = 0.5; }) == "dropout");
  TrainSettings linear;
  linear.model = "linear";
  linear.weight_decay = 0.1;
  subset::check_train_settings(linear);
}
