// Tests for libsubset/nn/internal/network_training.h and the convnet path of nn::train_and_test:
// the reference ConvNet learns a tiny image problem, rows of weight 0 are dropped exactly, runs are
// reproducible from the seed, SGD follows PyTorch's update with the momentum restarted at the
// learning-rate decay, and image shapes and settings that do not fit are rejected.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/core/Tensor.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/tensor.h>
#include "support/torch_doctest.h"

#include <cmath>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/nn/condense.h"
#include "libsubset/nn/internal/network.h"
#include "libsubset/nn/internal/network_training.h"
#include "libsubset/nn/trainer.h"
#include "support/error_of.h"

namespace {

using subset::nn::LabelledView;
using subset::nn::train_and_test;
using subset::nn::TrainSettings;
using subset::test::error_of;
namespace internal = subset::nn::internal;

constexpr int64_t kSide = 8;
constexpr int64_t kDim = kSide * kSide;

// 8x8 single-channel images of two classes: class 0 is bright in its left half, class 1 in its
// right half, both with N(0, 0.2^2) noise per pixel. Rows alternate between the classes.
struct Images {
  std::vector<float> x;
  std::vector<int64_t> y;
  std::vector<float> w;  // empty: no weights
  int64_t n = 0;
  LabelledView view() const { return {x.data(), y.data(), w.empty() ? nullptr : w.data(), n, kDim}; }
};

Images make_images(int64_t n, uint64_t seed) {
  Images im;
  im.n = n;
  subset::Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 2;
    im.y.push_back(c);
    for (int64_t r = 0; r < kSide; ++r)
      for (int64_t col = 0; col < kSide; ++col) {
        const bool bright = (col < kSide / 2) == (c == 0);
        im.x.push_back(static_cast<float>((bright ? 0.8 : 0.2) + 0.2 * rng.normal()));
      }
  }
  return im;
}

// Rows `keep` of `im`, with their weights when it has any.
Images take(const Images& im, const std::vector<int64_t>& keep) {
  Images out;
  out.n = static_cast<int64_t>(keep.size());
  for (int64_t i : keep) {
    out.y.push_back(im.y[static_cast<size_t>(i)]);
    out.x.insert(out.x.end(), im.x.begin() + i * kDim, im.x.begin() + (i + 1) * kDim);
    if (!im.w.empty()) out.w.push_back(im.w[static_cast<size_t>(i)]);
  }
  return out;
}

TrainSettings convnet_settings(const Images& train) {
  TrainSettings s;
  s.model = "convnet";
  s.schedule = "epochs";
  s.image_shape = {1, kSide, kSide};
  const subset::nn::ChannelStatistics stats = subset::nn::channel_statistics(train.x.data(), train.n, kDim, 1);
  s.channel_mean = stats.mean;
  s.channel_stddev = stats.stddev;
  s.epochs = 4;
  s.batch = 16;
  s.learning_rate = 0.01;
  s.seed = 7;
  return s;
}

// One thread for the scope: these tiny convolutions gain nothing from a second one, and on a busy
// machine every parallel region would wait for it.
struct OneThread {
  int saved = subset::current_threads();
  OneThread() { subset::set_threads(1); }
  ~OneThread() { subset::set_threads(saved); }
};

// Two trainings that must have been the same, bit for bit.
void check_identical(const subset::nn::TrainOutcome& a, const subset::nn::TrainOutcome& b) {
  CHECK(a.final_loss == b.final_loss);
  CHECK(a.test_accuracy == b.test_accuracy);
  CHECK(a.steps == b.steps);
}

}  // namespace

TEST_CASE("the convnet learns which half of an image is bright in a few epochs") {
  const OneThread one_thread;
  const Images train = make_images(64, 1), test = make_images(64, 2);
  const TrainSettings s = convnet_settings(train);
  std::vector<double> losses;
  TrainSettings watched = s;
  watched.on_epoch = [&](int64_t epoch, int64_t epochs, double loss) {
    CHECK(epoch == static_cast<int64_t>(losses.size()) + 1);
    CHECK(epochs == s.epochs);
    losses.push_back(loss);
  };
  const auto out = train_and_test(train.view(), test.view(), 2, watched);
  CHECK(out.test_accuracy >= 0.95);
  REQUIRE(losses.size() == static_cast<size_t>(*s.epochs));
  CHECK(losses.back() < losses.front());
  CHECK(out.final_loss == losses.back());
  CHECK(out.steps == *s.epochs * 4);  // 64 rows in batches of 16
}

TEST_CASE("convnet: the same seed gives the same outcome bit for bit, another seed another one") {
  const OneThread one_thread;
  const Images train = make_images(48, 3), test = make_images(32, 4);
  TrainSettings s = convnet_settings(train);
  s.epochs = 2;
  const auto a = train_and_test(train.view(), test.view(), 2, s);
  check_identical(a, train_and_test(train.view(), test.view(), 2, s));
  s.seed = 8;
  const auto c = train_and_test(train.view(), test.view(), 2, s);
  CHECK(c.final_loss != a.final_loss);
}

TEST_CASE("convnet: rows of weight 0 are dropped, the rest train exactly as they would alone") {
  const OneThread one_thread;
  Images train = make_images(48, 5);
  const Images test = make_images(32, 6);
  std::vector<int64_t> positive;
  for (int64_t i = 0; i < train.n; ++i) {
    const float w = i % 3 == 0 ? 0.0f : (i % 3 == 1 ? 1.0f : 2.5f);
    train.w.push_back(w);
    if (w > 0) positive.push_back(i);
  }
  const Images alone = take(train, positive);
  // The standardisation is a setting, not computed from the rows trained on: the same for both.
  TrainSettings s = convnet_settings(train);
  s.epochs = 3;
  const auto without = train_and_test(alone.view(), test.view(), 2, s);
  check_identical(train_and_test(train.view(), test.view(), 2, s), without);
  // Weights matter: the same rows unweighted train differently.
  Images unweighted = alone;
  unweighted.w.clear();
  const auto plain = train_and_test(unweighted.view(), test.view(), 2, s);
  CHECK(plain.final_loss != without.final_loss);
}

TEST_CASE("the learning rate is divided by 10 after ceil(epochs / 2) epochs") {
  const OneThread one_thread;
  CHECK(internal::decay_after_epoch(300) == 150);
  CHECK(internal::decay_after_epoch(5) == 3);
  CHECK(internal::decay_after_epoch(1) == 1);
  CHECK(internal::scheduled_learning_rate(0.01, 150, 300) == 0.01);
  CHECK(internal::scheduled_learning_rate(0.01, 151, 300) == doctest::Approx(0.001));
  CHECK(internal::scheduled_learning_rate(0.01, 1, 1) == 0.01);

  const Images train = make_images(32, 9);
  const TrainSettings s = convnet_settings(train);
  internal::Network net = internal::make_network(internal::NetKind::ConvNet, {1, kSide, kSide}, 2, 1, c10::Device(c10::kCPU));
  internal::ImageTrainingData data;
  data.images = at::from_blob(const_cast<float*>(train.x.data()), {train.n, 1, kSide, kSide},
                              at::TensorOptions().dtype(at::kFloat)).clone();
  data.labels = at::tensor(train.y, at::TensorOptions().dtype(at::kLong));
  internal::NetworkLoopSettings loop;
  loop.epochs = 5;
  loop.batch = 8;
  loop.learning_rate = 0.02;
  std::vector<double> rates;
  const auto result = internal::train_network(net, data, loop, [&](const internal::NetworkEpoch& e) {
    CHECK(e.epoch == static_cast<int64_t>(rates.size()) + 1);
    CHECK(std::isfinite(e.loss));
    rates.push_back(e.learning_rate);
  });
  REQUIRE(rates.size() == 5);
  CHECK(rates[0] == 0.02);
  CHECK(rates[2] == 0.02);
  CHECK(rates[3] == doctest::Approx(0.002));
  CHECK(rates[4] == doctest::Approx(0.002));
  CHECK(result.steps == 5 * 4);
}

TEST_CASE("internal::Sgd follows torch.optim.SGD: weight decay, momentum, and a fresh buffer when rebuilt") {
  at::Tensor p = at::tensor(std::vector<float>{1.0f, -2.0f}).requires_grad_(true);
  const double lr = 0.1, momentum = 0.9, decay = 0.01;
  internal::Sgd sgd({p}, lr, momentum, decay);
  auto set_grad = [&](float g0, float g1) { p.mutable_grad() = at::tensor(std::vector<float>{g0, g1}); };
  // Step 1: buf = g + decay * p; p -= lr * buf.
  set_grad(0.5f, 1.0f);
  double p0 = 1.0, p1 = -2.0;
  double b0 = 0.5 + decay * p0, b1 = 1.0 + decay * p1;
  p0 -= lr * b0;
  p1 -= lr * b1;
  sgd.step();
  CHECK(p[0].item<float>() == doctest::Approx(p0).epsilon(1e-6));
  CHECK(p[1].item<float>() == doctest::Approx(p1).epsilon(1e-6));
  // Step 2: buf = momentum * buf + g + decay * p.
  set_grad(-1.0f, 0.25f);
  b0 = momentum * b0 + (-1.0 + decay * p0);
  b1 = momentum * b1 + (0.25 + decay * p1);
  p0 -= lr * b0;
  p1 -= lr * b1;
  sgd.step();
  CHECK(p[0].item<float>() == doctest::Approx(p0).epsilon(1e-6));
  CHECK(p[1].item<float>() == doctest::Approx(p1).epsilon(1e-6));
  // A rebuilt optimiser (the decay) starts without momentum: buf = g + decay * p again.
  sgd = internal::Sgd({p}, lr * 0.1, momentum, decay);
  set_grad(2.0f, -0.5f);
  b0 = 2.0 + decay * p0;
  b1 = -0.5 + decay * p1;
  p0 -= lr * 0.1 * b0;
  p1 -= lr * 0.1 * b1;
  sgd.step();
  CHECK(p[0].item<float>() == doctest::Approx(p0).epsilon(1e-6));
  CHECK(p[1].item<float>() == doctest::Approx(p1).epsilon(1e-6));
  // zero_grad zeroes the gradients.
  sgd.zero_grad();
  CHECK(p.grad().abs().sum().item<float>() == 0.0f);
}

TEST_CASE("convnet: DSA augmentation of every batch trains and is reproducible") {
  const OneThread one_thread;
  const Images train = make_images(32, 11), test = make_images(16, 12);
  TrainSettings s = convnet_settings(train);
  s.epochs = 2;
  s.augment = "dsa";
  const auto a = train_and_test(train.view(), test.view(), 2, s);
  CHECK(std::isfinite(a.final_loss));
  check_identical(a, train_and_test(train.view(), test.view(), 2, s));
}

TEST_CASE("convnet: image shapes, statistics and augmentations that do not fit are rejected") {
  const Images train = make_images(8, 13), test = make_images(4, 14);
  const TrainSettings good = convnet_settings(train);
  auto message = [&](const TrainSettings& s) {
    return error_of([&] { train_and_test(train.view(), test.view(), 2, s); }).message();
  };
  TrainSettings s = good;
  s.image_shape.clear();
  CHECK(message(s).find("image_shape") != std::string::npos);
  s = good;
  s.image_shape = {1, 8};
  CHECK(message(s).find("[C, H, W]") != std::string::npos);
  s = good;
  s.image_shape = {1, 4, 16};  // 64 features, but too small for 3 poolings
  CHECK(message(s).find("too small") != std::string::npos);
  s = good;
  s.image_shape = {2, 8, 8};
  CHECK(message(s).find("does not match") != std::string::npos);
  s = good;
  s.channel_mean = {0.1f, 0.2f};
  CHECK(message(s).find("per channel") != std::string::npos);
  s = good;
  s.channel_stddev = {0.0f};
  CHECK(message(s).find("deviation") != std::string::npos);
  s = good;
  s.augment = "flip";
  CHECK(error_of([&] { train_and_test(train.view(), test.view(), 2, s); }).where() == "augment");
  s = good;
  s.model = "mlp";
  s.augment = "dsa";
  CHECK(message(s).find("convnet only") != std::string::npos);
  s = good;
  s.model = "resnet";
  CHECK(message(s).find("convnet") != std::string::npos);
  s = good;
  s.momentum = 1.0;
  CHECK(message(s).find("momentum") != std::string::npos);
  s = good;
  s.weight_decay = -1;
  CHECK(message(s).find("weight-decay") != std::string::npos);
}
