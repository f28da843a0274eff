// Tests for libsubset/nn/trainer.h and the pieces behind it (nn/internal): the proxy models learn a
// separable problem, the weighted loss is the one documented, runs are reproducible from the seed,
// and invalid input is rejected before any work.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/cuda.h>
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include "support/torch_doctest.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/nn/internal/adam.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/linear.h"
#include "libsubset/nn/internal/train_loop.h"
#include "libsubset/nn/trainer.h"
#include "support/error_of.h"
#include "support/toy_classes.h"

namespace {

using subset::nn::LabelledView;
using subset::nn::train_and_test;
using subset::nn::TrainSettings;
using subset::test::error_of;

// Three classes in 5 dimensions: class c is 3 e_c plus N(0, 0.3^2) noise per coordinate, so a
// linear boundary separates them with a wide margin. Rows cycle through the classes.
using Toy = subset::test::ToyClasses;
Toy make_toy(int64_t n, uint64_t seed) { return subset::test::make_toy_classes(n, seed); }

TrainSettings toy_settings(const std::string& model) {
  TrainSettings s;
  s.model = model;
  s.schedule = "epochs";
  s.hidden = 16;
  s.epochs = 10;
  s.batch = 32;
  s.learning_rate = 0.01;
  s.seed = 3;
  return s;
}

double log_sum_exp(const std::vector<double>& z) {
  double m = z[0];
  for (double v : z) m = std::max(m, v);
  double s = 0;
  for (double v : z) s += std::exp(v - m);
  return m + std::log(s);
}

}  // namespace

TEST_CASE("both proxy models separate a linearly separable problem") {
  const Toy train = make_toy(300, 1), test = make_toy(150, 2);
  for (const std::string model : {"linear", "mlp"}) {
    CAPTURE(model);
    const auto out = train_and_test(train.view(), test.view(), 3, toy_settings(model));
    CHECK(out.test_accuracy >= 0.99);
    CHECK(out.final_loss < 0.1);
    CHECK(out.steps == 10 * 10);  // ceil(300 / 32) steps per epoch
  }
}

TEST_CASE("the same seed gives the same outcome bit for bit, another seed another one") {
  const Toy train = make_toy(120, 1), test = make_toy(60, 2);
  for (const std::string model : {"linear", "mlp"}) {
    CAPTURE(model);
    TrainSettings s = toy_settings(model);
    s.epochs = 3;
    const auto a = train_and_test(train.view(), test.view(), 3, s);
    const auto b = train_and_test(train.view(), test.view(), 3, s);
    CHECK(a.final_loss == b.final_loss);
    CHECK(a.test_accuracy == b.test_accuracy);
    s.seed = 4;
    const auto c = train_and_test(train.view(), test.view(), 3, s);
    CHECK(c.final_loss != a.final_loss);
  }
}

TEST_CASE("the weighted batch loss is sum(w * cross-entropy) / sum(w), and so is its gradient") {
  // Hand-computed oracle in double: l_i = logsumexp(z_i) - z_i[y_i],
  // d loss / d z_ij = w_i (softmax(z_i)_j - [j == y_i]) / sum(w).
  std::vector<float> z = {1.0f, -2.0f, 0.5f, 0.0f, 0.0f, 0.0f, 3.0f, 1.0f, -1.0f, -0.5f, 2.5f, 0.25f};
  std::vector<int64_t> y = {2, 0, 1, 1};
  std::vector<float> w = {1.0f, 2.0f, 0.0f, 0.5f};
  const int64_t b = 4, k = 3;
  std::vector<double> l(b);
  double wl = 0, ws = 0, plain = 0;
  for (int64_t i = 0; i < b; ++i) {
    const std::vector<double> zi(z.begin() + i * k, z.begin() + (i + 1) * k);
    l[static_cast<size_t>(i)] = log_sum_exp(zi) - zi[static_cast<size_t>(y[static_cast<size_t>(i)])];
    wl += w[static_cast<size_t>(i)] * l[static_cast<size_t>(i)];
    ws += w[static_cast<size_t>(i)];
    plain += l[static_cast<size_t>(i)];
  }
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor logits = at::from_blob(z.data(), {b, k}, opts).clone().requires_grad_(true);
  const at::Tensor labels = at::from_blob(y.data(), {b}, at::TensorOptions().dtype(at::kLong));
  const at::Tensor weights = at::from_blob(w.data(), {b}, opts);

  const auto loss = subset::nn::internal::weighted_cross_entropy(logits, labels, weights, ws, true);
  CHECK(loss.loss.item<double>() == doctest::Approx(wl / ws).epsilon(1e-6));
  CHECK(loss.total.item<double>() == doctest::Approx(wl).epsilon(1e-6));
  REQUIRE(loss.per_example.defined());
  for (int64_t i = 0; i < b; ++i)
    CHECK(loss.per_example[i].item<double>() == doctest::Approx(l[static_cast<size_t>(i)]).epsilon(1e-6));

  loss.loss.backward();
  const at::Tensor grad = logits.grad();
  for (int64_t i = 0; i < b; ++i) {
    const std::vector<double> zi(z.begin() + i * k, z.begin() + (i + 1) * k);
    const double lse = log_sum_exp(zi);
    for (int64_t j = 0; j < k; ++j) {
      const double expected =
          w[static_cast<size_t>(i)] *
          (std::exp(zi[static_cast<size_t>(j)] - lse) - (j == y[static_cast<size_t>(i)] ? 1.0 : 0.0)) / ws;
      CHECK(grad[i][j].item<double>() == doctest::Approx(expected).epsilon(1e-6));
    }
  }

  // Without weights: the mean, with or without the per-example losses.
  for (bool keep : {false, true}) {
    const auto mean = subset::nn::internal::weighted_cross_entropy(logits.detach(), labels, at::Tensor(), b, keep);
    CHECK(mean.loss.item<double>() == doctest::Approx(plain / b).epsilon(1e-6));
    CHECK(mean.per_example.defined() == keep);
  }
}

TEST_CASE("with the whole set in one batch, weight 2 on a row trains as that row twice") {
  // Full-batch steps see every row at once, so the weighted loss and the loss over a set with the
  // row duplicated are the same function; only the summation order differs.
  Toy base = make_toy(60, 5);
  const Toy test = make_toy(30, 6);
  Toy weighted = base;
  weighted.w.assign(static_cast<size_t>(base.n), 1.0f);
  weighted.w[7] = 2.0f;
  Toy duplicated = base;
  duplicated.x.insert(duplicated.x.end(), base.x.begin() + 7 * base.dim, base.x.begin() + 8 * base.dim);
  duplicated.y.push_back(base.y[7]);
  duplicated.n += 1;
  TrainSettings s = toy_settings("mlp");
  s.batch = 1000;
  s.epochs = 5;
  const auto a = train_and_test(weighted.view(), test.view(), 3, s);
  const auto b = train_and_test(duplicated.view(), test.view(), 3, s);
  CHECK(a.steps == 5);
  CHECK(b.steps == 5);
  CHECK(a.final_loss == doctest::Approx(b.final_loss).epsilon(1e-5));
  CHECK(a.test_accuracy == b.test_accuracy);
}

TEST_CASE("weights count only relative to each other; zero weights drop rows") {
  Toy train = make_toy(90, 7);
  const Toy test = make_toy(30, 8);
  subset::Rng rng(9);
  train.w.resize(static_cast<size_t>(train.n));
  for (auto& v : train.w) v = static_cast<float>(0.25 + rng.uniform01());
  TrainSettings s = toy_settings("mlp");
  s.epochs = 3;
  const auto a = train_and_test(train.view(), test.view(), 3, s);
  // Doubling every weight is exact in floating point: the same run, bit for bit.
  Toy doubled = train;
  for (auto& v : doubled.w) v *= 2.0f;
  const auto b = train_and_test(doubled.view(), test.view(), 3, s);
  CHECK(a.final_loss == b.final_loss);
  CHECK(a.test_accuracy == b.test_accuracy);

  SUBCASE("rows of weight zero are as good as absent when each step sees all rows") {
    Toy kept = make_toy(60, 10);
    Toy padded = kept;
    const Toy extra = make_toy(30, 11);
    padded.x.insert(padded.x.end(), extra.x.begin(), extra.x.end());
    padded.y.insert(padded.y.end(), extra.y.begin(), extra.y.end());
    padded.n += extra.n;
    padded.w.assign(static_cast<size_t>(kept.n), 1.0f);
    padded.w.resize(static_cast<size_t>(padded.n), 0.0f);
    s.batch = 1000;
    const auto k = train_and_test(kept.view(), test.view(), 3, s);
    const auto p = train_and_test(padded.view(), test.view(), 3, s);
    CHECK(p.final_loss == doctest::Approx(k.final_loss).epsilon(1e-5));
    CHECK(p.test_accuracy == k.test_accuracy);
  }
}

TEST_CASE("a class whose rows all weigh zero is never learnt") {
  Toy train = make_toy(300, 1);
  train.w.resize(static_cast<size_t>(train.n));
  for (int64_t i = 0; i < train.n; ++i)
    train.w[static_cast<size_t>(i)] = train.y[static_cast<size_t>(i)] == 2 ? 0.0f : 1.0f;
  // Test rows of class 2 only.
  Toy test = make_toy(150, 2);
  Toy test2;
  for (int64_t i = 0; i < test.n; ++i) {
    if (test.y[static_cast<size_t>(i)] != 2) continue;
    test2.x.insert(test2.x.end(), test.x.begin() + i * test.dim, test.x.begin() + (i + 1) * test.dim);
    test2.y.push_back(2);
    ++test2.n;
  }
  for (const std::string model : {"linear", "mlp"}) {
    CAPTURE(model);
    const auto out = train_and_test(train.view(), test2.view(), 3, toy_settings(model));
    // What the model says about class 2 comes from its initial weights alone: well below the
    // 100% that training on the class gives (the first test case).
    CHECK(out.test_accuracy < 0.5);
    // Exactly nothing flows from rows of weight zero: relabelling them changes no bit.
    Toy relabelled = train;
    for (int64_t i = 0; i < train.n; ++i) {
      if (train.y[static_cast<size_t>(i)] == 2) relabelled.y[static_cast<size_t>(i)] = i % 2;
    }
    const auto again = train_and_test(relabelled.view(), test2.view(), 3, toy_settings(model));
    CHECK(again.final_loss == out.final_loss);
    CHECK(again.test_accuracy == out.test_accuracy);
  }
}

TEST_CASE("a batch whose weights are all zero is skipped") {
  Toy train = make_toy(6, 1);
  train.w = {1, 0, 0, 0, 0, 1};
  TrainSettings s = toy_settings("linear");
  s.batch = 1;
  s.epochs = 2;
  CHECK(train_and_test(train.view(), train.view(), 3, s).steps == 4);
}

TEST_CASE("on_epoch sees every epoch with a falling loss, and may cancel by throwing") {
  const Toy train = make_toy(300, 1), test = make_toy(60, 2);
  TrainSettings s = toy_settings("mlp");
  s.epochs = 6;
  std::vector<int64_t> epochs, totals;
  std::vector<double> losses;
  s.on_epoch = [&](int64_t epoch, int64_t total, double loss) {
    epochs.push_back(epoch);
    totals.push_back(total);
    losses.push_back(loss);
  };
  const auto out = train_and_test(train.view(), test.view(), 3, s);
  CHECK(epochs == std::vector<int64_t>{1, 2, 3, 4, 5, 6});
  CHECK(totals == std::vector<int64_t>(6, 6));
  for (size_t e = 1; e < losses.size(); ++e) CHECK(losses[e] < losses[e - 1]);
  CHECK(losses.back() == out.final_loss);

  int calls = 0;
  s.on_epoch = [&](int64_t epoch, int64_t, double) {
    ++calls;
    if (epoch == 2) throw std::runtime_error("stop");
  };
  CHECK_THROWS_WITH(train_and_test(train.view(), test.view(), 3, s), "stop");
  CHECK(calls == 2);
}

TEST_CASE("train_classifier: on_batch sees every row once per epoch, with its loss") {
  const Toy t = make_toy(50, 1);
  namespace in = subset::nn::internal;
  in::Classifier model = in::make_classifier(in::ModelKind::Mlp, t.dim, 8, 3, 1, c10::Device("cpu"));
  in::TrainingTensors data;
  data.features = at::from_blob(const_cast<float*>(t.x.data()), {t.n, t.dim}, at::TensorOptions().dtype(at::kFloat));
  data.labels = at::from_blob(const_cast<int64_t*>(t.y.data()), {t.n}, at::TensorOptions().dtype(at::kLong));
  in::LoopSettings s;
  s.epochs = 2;
  s.batch = 16;
  std::vector<std::vector<int>> seen(2, std::vector<int>(50, 0));
  in::LoopHooks hooks;
  hooks.on_batch = [&](const in::BatchInfo& b) {
    REQUIRE(b.logits.size(0) == b.rows.size(0));
    REQUIRE(b.losses.size(0) == b.rows.size(0));
    CHECK_FALSE(b.logits.requires_grad());
    for (int64_t i = 0; i < b.rows.size(0); ++i) {
      const int64_t r = b.rows[i].item<int64_t>();
      ++seen[static_cast<size_t>(b.epoch - 1)][static_cast<size_t>(r)];
      // The loss handed out is the cross-entropy of the logits handed out.
      const at::Tensor z = b.logits[i];
      const double expected = z.exp().sum().log().item<double>() - z[t.y[static_cast<size_t>(r)]].item<double>();
      CHECK(b.losses[i].item<double>() == doctest::Approx(expected).epsilon(1e-5));
    }
  };
  const auto result = in::train_classifier(model, data, s, hooks);
  CHECK(result.steps == 2 * 4);
  for (const auto& epoch : seen) CHECK(epoch == std::vector<int>(50, 1));
}

TEST_CASE("make_classifier: torch.nn.Linear's initial ranges, from the seed alone") {
  namespace in = subset::nn::internal;
  const auto a = in::make_classifier(in::ModelKind::Mlp, 20, 7, 4, 11, c10::Device("cpu"));
  const auto b = in::make_classifier(in::ModelKind::Mlp, 20, 7, 4, 11, c10::Device("cpu"));
  const auto c = in::make_classifier(in::ModelKind::Mlp, 20, 7, 4, 12, c10::Device("cpu"));
  REQUIRE(a.params.size() == 4);
  CHECK(a.params[0].sizes() == at::IntArrayRef{7, 20});
  CHECK(a.params[1].sizes() == at::IntArrayRef{7});
  CHECK(a.params[2].sizes() == at::IntArrayRef{4, 7});
  CHECK(a.params[3].sizes() == at::IntArrayRef{4});
  for (size_t i = 0; i < 4; ++i) {
    CHECK(a.params[i].equal(b.params[i]));
    CHECK_FALSE(a.params[i].equal(c.params[i]));
    CHECK(a.params[i].requires_grad());
    const double bound = 1.0 / std::sqrt(i < 2 ? 20.0 : 7.0);
    CHECK(a.params[i].abs().max().item<double>() <= bound);
    CHECK(a.params[i].abs().max().item<double>() > 0.5 * bound);
  }
  const auto linear = in::make_classifier(in::ModelKind::Linear, 20, 7, 4, 11, c10::Device("cpu"));
  REQUIRE(linear.params.size() == 2);
  CHECK(linear.params[0].sizes() == at::IntArrayRef{4, 20});
  CHECK(linear.hidden == 0);
}

TEST_CASE("invalid settings and data are rejected before training") {
  const Toy train = make_toy(30, 1), test = make_toy(9, 2);
  const TrainSettings good = toy_settings("linear");
  auto with = [&](auto change) {
    TrainSettings s = good;
    change(s);
    return error_of([&] { train_and_test(train.view(), test.view(), 3, s); });
  };
  CHECK(with([](TrainSettings& s) { s.model = "cnn"; }).message().find("got 'cnn'") != std::string::npos);
  CHECK(with([](TrainSettings& s) { s.model = "cnn"; }).where() == "model");
  CHECK(with([](TrainSettings& s) { s.epochs = 0; }).where() == "epochs");
  CHECK(with([](TrainSettings& s) { s.batch = 0; }).where() == "batch");
  CHECK(with([](TrainSettings& s) { s.batch = -5; }).where() == "batch");
  CHECK(with([](TrainSettings& s) { s.hidden = 0; }).where() == "hidden");
  for (double lr : {0.0, -1e-3, std::nan(""), std::numeric_limits<double>::infinity()}) {
    CAPTURE(lr);
    CHECK(with([lr](TrainSettings& s) { s.learning_rate = lr; }).where() == "lr");
  }
  CHECK(with([](TrainSettings& s) { s.device = "tpu"; }).message().find("unknown device 'tpu'") != std::string::npos);
  CHECK(with([](TrainSettings& s) { s.device = "cuda:x"; }).where() == "device");
  if (!torch::cuda::is_available()) {
    const auto e = with([](TrainSettings& s) { s.device = "cuda"; });
    CHECK(e.where() == "device");
    CHECK(e.message().find("no CUDA") != std::string::npos);
  }

  auto data_error = [&](LabelledView tr, LabelledView te, int64_t classes = 3) {
    return error_of([&] { train_and_test(tr, te, classes, good); });
  };
  LabelledView empty = train.view();
  empty.n = 0;
  CHECK(data_error(empty, test.view()).where() == "train");
  CHECK(data_error(train.view(), empty).where() == "test");
  LabelledView narrow = test.view();
  narrow.dim = 4;
  CHECK(data_error(train.view(), narrow).message().find("4 features") != std::string::npos);
  CHECK(data_error(train.view(), test.view(), 2).message().find("label 2 of row 2 is outside [0, 2)") !=
        std::string::npos);

  Toy bad = train;
  bad.y[4] = -1;
  CHECK(data_error(bad.view(), test.view()).message().find("label -1 of row 4") != std::string::npos);
  Toy bad_test = test;
  bad_test.y[1] = 3;
  const auto e = data_error(train.view(), bad_test.view());
  CHECK(e.where() == "test");
  CHECK(e.message().find("row 1") != std::string::npos);

  Toy weighted = train;
  for (float w : {-1.0f, std::nanf(""), std::numeric_limits<float>::infinity()}) {
    CAPTURE(w);
    weighted.w.assign(static_cast<size_t>(train.n), 1.0f);
    weighted.w[3] = w;
    const auto we = data_error(weighted.view(), test.view());
    CHECK(we.where() == "weights");
    CHECK(we.message().find("row 3") != std::string::npos);
  }
  weighted.w.assign(static_cast<size_t>(train.n), 0.0f);
  CHECK(data_error(weighted.view(), test.view()).message().find("all 30 weights are zero") != std::string::npos);
}

TEST_CASE("training follows subset::set_threads and leaves libtorch's count as it was") {
  const Toy train = make_toy(60, 1), test = make_toy(30, 2);
  train_and_test(train.view(), test.view(), 3, toy_settings("linear"));
  subset::set_threads(1);
  CHECK(at::get_num_threads() == 1);
  subset::set_threads(2);
  CHECK(at::get_num_threads() == 2);
  train_and_test(train.view(), test.view(), 3, toy_settings("mlp"));
  CHECK(at::get_num_threads() == 2);
  subset::set_threads(1);
  CHECK(at::get_num_threads() == 1);
}

TEST_CASE("internal::linear: oneDNN's products agree with at::addmm, and differentiate twice") {
  namespace in = subset::nn::internal;
  subset::Rng rng(5);
  auto random = [&](std::vector<int64_t> sizes) {
    int64_t count = 1;
    for (int64_t s : sizes) count *= s;
    std::vector<float> v(static_cast<size_t>(count));
    for (auto& f : v) f = static_cast<float>(rng.normal());
    return at::from_blob(v.data(), sizes, at::TensorOptions().dtype(at::kFloat)).clone();
  };
  const at::Tensor x0 = random({37, 53}), w0 = random({29, 53}), b0 = random({29}), gy = random({37, 29});
  auto run = [&](bool onednn) {
    in::set_onednn_gemm(onednn);
    const at::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true),
                     b = b0.clone().requires_grad_(true);
    const at::Tensor y = in::linear(x, w, b);
    y.backward(gy);
    in::set_onednn_gemm(true);
    return std::vector<at::Tensor>{y.detach(), x.grad(), w.grad(), b.grad()};
  };
  const auto fast = run(true), plain = run(false);
  // Debian's libtorch brings oneDNN, unless CI forces the fallback (tests/CMakeLists.txt).
  CHECK(in::onednn_gemm_available() == (std::getenv("SUBSET_NN_GEMM") == nullptr));
  for (size_t i = 0; i < fast.size(); ++i) {
    CAPTURE(i);
    CHECK(fast[i].sizes() == plain[i].sizes());
    CHECK(fast[i].allclose(plain[i], 1e-4, 1e-4));
  }

  // Double backward (gradient matching): d/dx of |dL/dw|^2 through the oneDNN layer equals the
  // same through at::addmm.
  auto second = [&](bool onednn) {
    in::set_onednn_gemm(onednn);
    const at::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true);
    const at::Tensor y = in::linear(x, w, b0);
    const at::Tensor gw = torch::autograd::grad({y.mul(gy).sum()}, {w}, {}, true, true)[0];
    const at::Tensor gx = torch::autograd::grad({gw.pow(2).sum()}, {x})[0];
    in::set_onednn_gemm(true);
    return gx;
  };
  CHECK(second(true).allclose(second(false), 1e-3, 1e-3));

  // The MLP (ReLU applied in place on the first layer's output) has the same gradients either way.
  auto mlp_grads = [&](bool onednn) {
    in::set_onednn_gemm(onednn);
    const in::Classifier model = in::make_classifier(in::ModelKind::Mlp, 53, 16, 29, 3, c10::Device("cpu"));
    model.forward(x0).mul(gy).sum().backward();
    in::set_onednn_gemm(true);
    std::vector<at::Tensor> g;
    for (const auto& p : model.params) g.push_back(p.grad());
    return g;
  };
  const auto g1 = mlp_grads(true), g2 = mlp_grads(false);
  for (size_t i = 0; i < g1.size(); ++i) {
    CAPTURE(i);
    CHECK(g1[i].abs().sum().item<double>() > 0);
    CHECK(g1[i].allclose(g2[i], 1e-4, 1e-4));
  }
}

TEST_CASE("an MLP of Fashion-MNIST's shape trains to the same bits at 1 and 2 threads") {
  // 784-256-10 on random data: the matrix products are as large as in `subset evaluate`, so that
  // oneDNN and ATen really split them between threads.
  const int64_t n = 1120, dim = 784;  // the last batch of an epoch has 96 rows
  subset::Rng rng(12);
  std::vector<float> x(static_cast<size_t>(n * dim));
  for (auto& v : x) v = static_cast<float>(rng.uniform01());
  // Learnable: class c has its feature c raised, so the weights keep moving.
  std::vector<int64_t> y(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    y[static_cast<size_t>(i)] = static_cast<int64_t>(rng.uniform_index(10));
    x[static_cast<size_t>(i * dim + y[static_cast<size_t>(i)])] += 3.0f;
  }
  const LabelledView view{x.data(), y.data(), nullptr, n, dim};
  TrainSettings s;
  s.schedule = "epochs";
  s.epochs = 3;
  std::vector<double> loss;
  for (int threads : {1, 2}) {
    subset::set_threads(threads);
    // With oneDNN doing the products, every kernel of the step may use all threads.
    s.on_epoch = [threads](int64_t, int64_t, double) { CHECK(at::get_num_threads() == threads); };
    loss.push_back(train_and_test(view, view, 10, s).final_loss);
  }
  subset::set_threads(1);
  // Bit for bit on oneDNN's fixed-block products; libtorch's fallback (SUBSET_NN_GEMM=fallback)
  // sums in a thread-dependent order.
  if (subset::nn::internal::onednn_gemm_available()) {
    CHECK(loss[0] == loss[1]);
  } else {
    CHECK(loss[0] == doctest::Approx(loss[1]).epsilon(1e-4));
  }
}

TEST_CASE("internal::Adam follows Kingma & Ba's update and torch.optim.Adam's weight decay, on the fused and the kernel path") {
  // Oracle 1, in double: g' = g + wd p (torch.optim.Adam's L2 weight_decay; none when wd = 0), then
  // m = b1 m + (1-b1) g', v = b2 v + (1-b2) g'^2, p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
  // Oracle 2: libtorch's own Adam (torch::optim, the C++ twin of torch.optim.Adam); AdamW, which
  // decays p outside the moments, must differ.
  const double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const std::vector<float> p0 = {0.5f, -1.0f, 2.0f, 0.0f, 3.0f, -0.25f};
  const std::vector<std::vector<float>> grads = {{0.1f, -0.2f, 0.3f, 0.0f, 1.0f, -4.0f},
                                                 {0.2f, 0.1f, -0.3f, 0.5f, 1.0f, 0.0f},
                                                 {-0.1f, 0.0f, 0.3f, 0.5f, 2.0f, 4.0f}};
  auto tensor = [](const std::vector<float>& values) {
    return at::from_blob(const_cast<float*>(values.data()), {2, 3}, at::TensorOptions().dtype(at::kFloat)).clone();
  };
  for (double wd : {0.0, 0.5}) {
    CAPTURE(wd);
    std::vector<double> p(p0.begin(), p0.end()), m(6, 0.0), v(6, 0.0);
    for (size_t t = 0; t < grads.size(); ++t) {
      for (size_t i = 0; i < 6; ++i) {
        const double g = grads[t][i] + wd * p[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        const double mh = m[i] / (1 - std::pow(b1, static_cast<double>(t + 1)));
        const double vh = v[i] / (1 - std::pow(b2, static_cast<double>(t + 1)));
        p[i] -= lr * mh / (std::sqrt(vh) + eps);
      }
    }
    auto run_torch = [&](bool decoupled) {
      at::Tensor param = tensor(p0).requires_grad_(true);
      std::unique_ptr<torch::optim::Optimizer> opt;
      if (decoupled) {
        opt = std::make_unique<torch::optim::AdamW>(std::vector<at::Tensor>{param},
                                                    torch::optim::AdamWOptions(lr).weight_decay(wd));
      } else {
        opt = std::make_unique<torch::optim::Adam>(std::vector<at::Tensor>{param},
                                                   torch::optim::AdamOptions(lr).weight_decay(wd));
      }
      for (const auto& g : grads) {
        param.mutable_grad() = tensor(g);
        opt->step();
      }
      return param.detach();
    };
    const at::Tensor torch_adam = run_torch(false), torch_adamw = run_torch(true);
    for (bool contiguous : {true, false}) {
      CAPTURE(contiguous);
      // A transposed (non-contiguous) parameter takes the kernel path, as a CUDA one would.
      at::Tensor param = tensor(p0);
      if (!contiguous) param = param.t().contiguous().t();
      param.requires_grad_(true);
      subset::nn::internal::Adam adam({param}, lr, wd);
      for (const auto& g : grads) {
        adam.zero_grad();
        param.mutable_grad() = tensor(g);
        adam.step();
      }
      CHECK(adam.steps() == 3);
      CHECK(param.is_contiguous() == contiguous);
      for (int64_t i = 0; i < 6; ++i) {
        CHECK(param[i / 3][i % 3].item<double>() == doctest::Approx(p[static_cast<size_t>(i)]).epsilon(1e-6));
      }
      CHECK(param.detach().allclose(torch_adam, 1e-6, 1e-7));
      if (wd > 0) CHECK(!param.detach().allclose(torch_adamw, 1e-4, 1e-5));
    }
  }
}

TEST_CASE("internal::linear gives the same bits at 1 and 2 threads, gradients included") {
  // oneDNN left to itself splits the inner dimension of a 96-row product between threads.
  namespace in = subset::nn::internal;
  subset::Rng rng(8);
  auto random = [&](int64_t rows, int64_t cols) {
    std::vector<float> v(static_cast<size_t>(rows * cols));
    for (auto& f : v) f = static_cast<float>(rng.uniform01() - 0.5);
    return at::from_blob(v.data(), {rows, cols}, at::TensorOptions().dtype(at::kFloat)).clone();
  };
  for (int64_t rows : {96, 256, 1000}) {
    CAPTURE(rows);
    const at::Tensor x0 = random(rows, 784), w0 = random(256, 784), b0 = random(1, 256).view({256}),
                     gy = random(rows, 256);
    std::vector<std::vector<at::Tensor>> out;
    for (int threads : {1, 2}) {
      subset::set_threads(threads);
      const at::Tensor x = x0.clone().requires_grad_(true), w = w0.clone().requires_grad_(true),
                       b = b0.clone().requires_grad_(true);
      const at::Tensor y = in::linear(x, w, b);
      y.backward(gy);
      out.push_back({y.detach(), x.grad(), w.grad(), b.grad()});
    }
    subset::set_threads(1);
    // Bit for bit on oneDNN's fixed-block products only: at::addmm, the fallback, sums in a
    // thread-dependent order.
    for (size_t i = 0; i < 4; ++i) {
      if (in::onednn_gemm_available()) {
        CHECK(out[0][i].equal(out[1][i]));
      } else {
        CHECK(out[0][i].allclose(out[1][i], 1e-5, 1e-5));
      }
    }
  }
}
