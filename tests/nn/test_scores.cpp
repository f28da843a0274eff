// Tests for the importance scores (libsubset/nn/scores.h, nn/internal/scores.h): each formula
// against hand computation from given probabilities, forgetting counts from a hand-built sequence
// of right and wrong, GraNd's closed form against autograd's per-example gradient, and on
// constructed data with a known answer: deliberately mislabelled points rank top for loss, el2n
// and grand. Also the provider that libsubset_workflows_nn installs for libsubset/select.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/core/Tensor.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/log_softmax.h>
#include <ATen/ops/nll_loss.h>
#include <torch/csrc/autograd/autograd.h>
#include "support/torch_doctest.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/scores.h"
#include "libsubset/nn/scores.h"
#include "libsubset/select/scores.h"
#include "libsubset/workflows/nn_entry.h"
#include "libsubset/workflows/scoring.h"
#include "support/error_of.h"
#include "support/thread_ranks.h"

namespace {

namespace si = subset::nn::internal;
using subset::nn::importance_scores;
using subset::nn::LabelledView;
using subset::nn::ScoreKind;
using subset::nn::ScoreSettings;
using subset::test::error_of;

at::Tensor floats(std::vector<float>& v, int64_t rows, int64_t cols) {
  return at::from_blob(v.data(), {rows, cols}, at::TensorOptions().dtype(at::kFloat));
}

std::vector<double> values(const at::Tensor& t) {
  const at::Tensor d = t.to(at::kDouble).contiguous();
  return std::vector<double>(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
}

// Logits whose softmax is exactly the given probability rows (each sums to 1, all > 0).
at::Tensor logits_of(const std::vector<std::vector<double>>& p) {
  std::vector<float> z;
  for (const auto& row : p)
    for (double v : row) z.push_back(static_cast<float>(std::log(v)));
  const int64_t rows = static_cast<int64_t>(p.size()), cols = static_cast<int64_t>(p[0].size());
  return at::from_blob(z.data(), {rows, cols}, at::TensorOptions().dtype(at::kFloat)).clone();
}

at::Tensor longs(std::vector<int64_t> v) {
  return at::from_blob(v.data(), {static_cast<int64_t>(v.size())}, at::TensorOptions().dtype(at::kLong)).clone();
}

// Three well separated blobs in 6 dimensions (class c around 4 e_c), `n` points cycling through
// the classes; every `flip_every`-th point gets the next class's label instead of its own.
struct Blobs {
  std::vector<float> x;
  std::vector<int64_t> y;
  std::set<int64_t> flipped;
  int64_t n = 0, dim = 6;
  LabelledView view() const { return {x.data(), y.data(), nullptr, n, dim}; }
};

Blobs make_blobs(int64_t n, int64_t flip_every, uint64_t seed) {
  Blobs b;
  b.n = n;
  subset::Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 3;
    for (int64_t d = 0; d < b.dim; ++d) b.x.push_back(static_cast<float>((d == c ? 4.0 : 0.0) + 0.5 * rng.normal()));
    const bool flip = flip_every > 0 && i % flip_every == flip_every / 2;
    b.y.push_back(flip ? (c + 1) % 3 : c);
    if (flip) b.flipped.insert(i);
  }
  return b;
}

ScoreSettings settings(const std::string& model, int64_t epochs, uint64_t seed = 7) {
  ScoreSettings s;
  s.training.model = model;
  s.training.hidden = 32;
  s.training.epochs = epochs;
  s.training.batch = 32;
  s.training.learning_rate = 0.01;
  s.training.seed = seed;
  return s;
}

// The k indices with the highest scores.
std::vector<int64_t> top(const std::vector<float>& s, size_t k) {
  std::vector<int64_t> idx(s.size());
  std::iota(idx.begin(), idx.end(), int64_t{0});
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return s[static_cast<size_t>(a)] > s[static_cast<size_t>(b)]; });
  idx.resize(k);
  return idx;
}

}  // namespace

TEST_CASE("scores: entropy, margin and least-confidence equal hand computation; most uncertain scores highest") {
  // Row 0 fairly sure, row 1 uniform (most uncertain), row 2 torn between two classes.
  const std::vector<std::vector<double>> p = {{0.7, 0.2, 0.1}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.5, 0.4, 0.1}};
  const at::Tensor z = logits_of(p);
  const std::vector<double> entropy = values(si::entropy_scores(z));
  const std::vector<double> margin = values(si::margin_scores(z));
  const std::vector<double> least = values(si::least_confidence_scores(z));
  const double e0 = -(0.7 * std::log(0.7) + 0.2 * std::log(0.2) + 0.1 * std::log(0.1));
  const double e2 = -(0.5 * std::log(0.5) + 0.4 * std::log(0.4) + 0.1 * std::log(0.1));
  CHECK(entropy[0] == doctest::Approx(e0).epsilon(1e-5));
  CHECK(entropy[1] == doctest::Approx(std::log(3.0)).epsilon(1e-5));  // the maximum for 3 classes
  CHECK(entropy[2] == doctest::Approx(e2).epsilon(1e-5));
  CHECK(margin[0] == doctest::Approx(1 - (0.7 - 0.2)).epsilon(1e-5));
  CHECK(margin[1] == doctest::Approx(1.0).epsilon(1e-5));
  CHECK(margin[2] == doctest::Approx(1 - (0.5 - 0.4)).epsilon(1e-5));
  CHECK(least[0] == doctest::Approx(0.3).epsilon(1e-5));
  CHECK(least[1] == doctest::Approx(2.0 / 3).epsilon(1e-5));
  CHECK(least[2] == doctest::Approx(0.5).epsilon(1e-5));
  for (const auto& s : {entropy, margin, least}) {  // direction: the sure row lowest, the uniform one highest
    CHECK(s[1] > s[2]);
    CHECK(s[2] > s[0]);
  }
  // A certain prediction scores 0 on all three; a single class has no runner-up (margin 0).
  const at::Tensor sure = logits_of({{1.0 - 1e-7, 0.5e-7, 0.5e-7}});
  CHECK(values(si::entropy_scores(sure))[0] == doctest::Approx(0.0).epsilon(1e-5));
  CHECK(values(si::margin_scores(sure))[0] == doctest::Approx(0.0).epsilon(1e-5));
  CHECK(values(si::least_confidence_scores(sure))[0] == doctest::Approx(0.0).epsilon(1e-5));
  CHECK(values(si::margin_scores(logits_of({{1.0}, {1.0}}))) == std::vector<double>{0.0, 0.0});
}

TEST_CASE("scores: loss and el2n equal hand computation") {
  const std::vector<std::vector<double>> p = {{0.7, 0.2, 0.1}, {0.7, 0.2, 0.1}, {0.25, 0.25, 0.5}};
  const at::Tensor z = logits_of(p);
  const at::Tensor y = longs({0, 1, 2});
  const std::vector<double> loss = values(si::loss_scores(z, y));
  CHECK(loss[0] == doctest::Approx(-std::log(0.7)).epsilon(1e-5));
  CHECK(loss[1] == doctest::Approx(-std::log(0.2)).epsilon(1e-5));
  CHECK(loss[2] == doctest::Approx(-std::log(0.5)).epsilon(1e-5));
  const std::vector<double> el2n = values(si::el2n_scores(z, y));
  CHECK(el2n[0] == doctest::Approx(std::sqrt(0.3 * 0.3 + 0.2 * 0.2 + 0.1 * 0.1)).epsilon(1e-5));
  CHECK(el2n[1] == doctest::Approx(std::sqrt(0.7 * 0.7 + 0.8 * 0.8 + 0.1 * 0.1)).epsilon(1e-5));
  CHECK(el2n[2] == doctest::Approx(std::sqrt(0.25 * 0.25 * 2 + 0.5 * 0.5)).epsilon(1e-5));
  // The same prediction scores higher when its label is the less likely class.
  CHECK(loss[1] > loss[0]);
  CHECK(el2n[1] > el2n[0]);
}

TEST_CASE("scores: forgetting counts from a hand-built sequence of right and wrong") {
  // Epochs down, rows across:     r0 r1 r2 r3 r4
  std::vector<uint8_t> seen = {1, 1, 0, 0, 1,   //
                               1, 0, 0, 1, 0,   //
                               1, 1, 0, 1, 0,   //
                               1, 0, 0, 0, 0};
  // r0 never forgotten: 0. r1 right, wrong, right, wrong: 2. r2 never right: E = 4.
  // r3 learned at epoch 2, forgotten at 4: 1. r4 right once, then wrong ever after: 1.
  const at::Tensor correct = at::from_blob(seen.data(), {4, 5}, at::TensorOptions().dtype(at::kBool));
  CHECK(values(si::forgetting_counts(correct)) == std::vector<double>{0, 2, 4, 1, 1});
  std::vector<uint8_t> one = {1, 0};  // one epoch: nothing can be forgotten; never right counts 1
  CHECK(values(si::forgetting_counts(at::from_blob(one.data(), {1, 2}, at::TensorOptions().dtype(at::kBool)))) ==
        std::vector<double>{0, 1});
}

TEST_CASE("scores: grand's closed form equals autograd's per-example gradient norm at the last layer") {
  const int64_t n = 5, dim = 4, classes = 3;
  subset::Rng rng(11);
  std::vector<float> xv;
  for (int64_t i = 0; i < n * dim; ++i) xv.push_back(static_cast<float>(2 * rng.normal()));
  const at::Tensor x = floats(xv, n, dim);
  const at::Tensor y = longs({0, 2, 1, 1, 0});
  for (const auto kind : {si::ModelKind::Mlp, si::ModelKind::Linear}) {
    CAPTURE(static_cast<int>(kind));
    const si::Classifier model = si::make_classifier(kind, dim, 6, classes, 5, c10::Device(c10::kCPU));
    const size_t w = kind == si::ModelKind::Mlp ? 2 : 0;  // the last layer's weight and bias
    std::vector<double> closed;
    {
      at::NoGradGuard no_grad;
      closed = values(si::grand_scores(model.forward(x), y, si::last_layer_input(model, x)));
      CHECK(values(si::last_layer(model, si::last_layer_input(model, x))) == values(model.forward(x)));
    }
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor loss = at::nll_loss(at::log_softmax(model.forward(x.narrow(0, i, 1)), 1), y.narrow(0, i, 1));
      const auto grads = torch::autograd::grad({loss}, {model.params[w], model.params[w + 1]});
      const double norm = std::sqrt(grads[0].square().sum().item<double>() + grads[1].square().sum().item<double>());
      CHECK(closed[static_cast<size_t>(i)] == doctest::Approx(norm).epsilon(1e-5));
    }
  }
}

TEST_CASE("scores: deliberately mislabelled points rank top for loss, el2n and grand") {
  const Blobs b = make_blobs(600, 20, 3);  // 30 flipped labels (5%)
  REQUIRE(b.flipped.size() == 30);
  for (const ScoreKind kind : {ScoreKind::Loss, ScoreKind::El2n, ScoreKind::Grand}) {
    for (const std::string model : {"linear", "mlp"}) {
      CAPTURE(static_cast<int>(kind));
      CAPTURE(model);
      const std::vector<float> s = importance_scores(b.view(), 3, kind, settings(model, 4));
      REQUIRE(s.size() == 600);
      size_t hits = 0;
      for (int64_t i : top(s, 30)) hits += b.flipped.count(i);
      CHECK(hits >= 27);  // >= 90% of the top 5% are the flipped points
    }
  }
  // Forgetting: a flipped point contradicts its blob, so it is rarely learned for good.
  const std::vector<float> f = importance_scores(b.view(), 3, ScoreKind::Forgetting, settings("mlp", 6));
  double flipped_mean = 0, clean_mean = 0;
  for (int64_t i = 0; i < b.n; ++i) (b.flipped.count(i) ? flipped_mean : clean_mean) += f[static_cast<size_t>(i)];
  flipped_mean /= 30;
  clean_mean /= 570;
  CHECK(flipped_mean > 2.0);  // never learned counts 6, learned at most 3
  CHECK(clean_mean < 0.5);
  for (float v : f) CHECK((v == std::floor(v) && v >= 0 && v <= 6));
}

TEST_CASE("scores: uncertainty is highest between the blobs") {
  // Points on the segment from blob 0 to blob 1: the midpoint is the most uncertain.
  Blobs b = make_blobs(300, 0, 5);
  const int64_t mid = 0;  // row 0 (class 0) becomes the midpoint of the centres of classes 0 and 1
  for (int64_t d = 0; d < b.dim; ++d) b.x[static_cast<size_t>(d)] = d < 2 ? 2.0f : 0.0f;
  for (const ScoreKind kind : {ScoreKind::Entropy, ScoreKind::Margin, ScoreKind::LeastConfidence}) {
    CAPTURE(static_cast<int>(kind));
    const std::vector<float> s = importance_scores(b.view(), 3, kind, settings("linear", 20));
    CHECK(top(s, 1)[0] == mid);
    for (float v : s) CHECK((v >= 0 && v <= 1.0001f * (kind == ScoreKind::Entropy ? std::log(3.0f) : 1.0f)));
  }
}

TEST_CASE("scores: repeat r is seeded with seed + r, and the scores are the repeats' mean") {
  const Blobs b = make_blobs(90, 10, 4);
  ScoreSettings one = settings("mlp", 2, 20);
  const std::vector<float> a = importance_scores(b.view(), 3, ScoreKind::El2n, one);
  CHECK(importance_scores(b.view(), 3, ScoreKind::El2n, one) == a);  // bit for bit
  one.training.seed = 21;
  const std::vector<float> c = importance_scores(b.view(), 3, ScoreKind::El2n, one);
  CHECK(c != a);
  ScoreSettings two = settings("mlp", 2, 20);
  two.repeats = 2;
  int64_t last_done = 0, calls = 0;
  two.progress = [&](int64_t done, int64_t total) {
    CHECK(total == 6);  // per repeat: 2 epochs and the scoring pass
    CHECK(done == last_done + 1);
    last_done = done;
    ++calls;
  };
  const std::vector<float> mean = importance_scores(b.view(), 3, ScoreKind::El2n, two);
  CHECK(calls == 6);
  for (size_t i = 0; i < a.size(); ++i) CHECK(mean[i] == doctest::Approx((a[i] + c[i]) / 2).epsilon(1e-5));
}

// Every rank's scores when `ranks` threads each hold their share of b's rows (share_of).
std::vector<std::vector<float>> scores_on_ranks(const Blobs& b, int ranks, ScoreKind kind, const ScoreSettings& base) {
  std::vector<std::vector<float>> out(static_cast<size_t>(ranks));
  subset::test::run_on_ranks(ranks, [&](const subset::Communicator& comm) {
    const auto [first, last] = subset::share_of(b.n, comm.rank(), comm.size());
    const LabelledView mine{b.x.data() + first * b.dim, b.y.data() + first, nullptr, last - first, b.dim};
    ScoreSettings s = base;
    s.share = subset::RowShare{&comm, first, last - first, b.n};
    out[static_cast<size_t>(comm.rank())] = importance_scores(mine, 3, kind, s);
  });
  return out;
}

TEST_CASE("scores: on 2 and 3 ranks the proxy trains data-parallel: every rank gets the one-process scores within rounding") {
  const Blobs b = make_blobs(240, 20, 3);
  // batch 32 of 240 rows: every rank has rows in most batches. batch 2: many steps leave a rank
  // without rows, whose zero gradient must still join the sum.
  for (const int64_t batch : {int64_t{32}, int64_t{2}}) {
    for (const ScoreKind kind : {ScoreKind::Loss, ScoreKind::Grand, ScoreKind::Forgetting}) {
      ScoreSettings s = settings("mlp", 3);
      s.training.batch = batch;
      const std::vector<float> alone = importance_scores(b.view(), 3, kind, s);
      for (const int ranks : {2, 3}) {
        CAPTURE(batch);
        CAPTURE(ranks);
        CAPTURE(static_cast<int>(kind));
        const auto per_rank = scores_on_ranks(b, ranks, kind, s);
        // The same step on every rank: the same bits.
        for (const auto& r : per_rank) CHECK(r == per_rank[0]);
        const std::vector<float>& shared = per_rank[0];
        REQUIRE(shared.size() == alone.size());
        double largest_gap = 0, largest = 0;
        for (size_t i = 0; i < alone.size(); ++i) {
          largest_gap = std::max(largest_gap, std::abs(static_cast<double>(shared[i]) - alone[i]));
          largest = std::max(largest, std::abs(static_cast<double>(alone[i])));
        }
        MESSAGE("largest gap " << largest_gap << " of scores up to " << largest);
        if (kind == ScoreKind::Forgetting) {
          // Whole counts: rounding can only flip a prediction whose two top logits nearly tie.
          int64_t changed = 0;
          for (size_t i = 0; i < alone.size(); ++i) changed += shared[i] != alone[i];
          CHECK(changed <= 2);
        } else {
          CHECK(largest_gap <= 1e-5 * std::max(1.0, largest));
        }
        // The mislabelled points still rank top.
        if (kind != ScoreKind::Forgetting) {
          const std::vector<int64_t> hardest = top(shared, b.flipped.size());
          CHECK(std::set<int64_t>(hardest.begin(), hardest.end()) == b.flipped);
        }
      }
    }
  }
}

TEST_CASE("scores: invalid input is rejected before any work") {
  const Blobs b = make_blobs(30, 0, 1);
  CHECK(std::string(error_of([&] { importance_scores(b.view(), 2, ScoreKind::Loss, settings("mlp", 1)); }).what())
            .find("outside [0, 2)") != std::string::npos);
  CHECK(error_of([&] { importance_scores(b.view(), 3, ScoreKind::Loss, settings("mlp", 0)); }).where() ==
        "score-epochs");
  ScoreSettings s = settings("mlp", 1);
  s.repeats = 0;
  CHECK(error_of([&] { importance_scores(b.view(), 3, ScoreKind::Loss, s); }).where() == "score-repeats");
  CHECK(error_of([&] { importance_scores(b.view(), 3, ScoreKind::Loss, settings("cnn", 1)); }).where() ==
        "score-model");
}

TEST_CASE("scores: install_nn_providers() installs the provider that libsubset/select scores with") {
  subset::workflows::install_nn_providers();
  const bool installed = subset::select::score_provider() == &subset::workflows::proxy_scores;
  REQUIRE(installed);
  const Blobs b = make_blobs(60, 0, 2);
  subset::select::ScoreRequest r;
  r.features = b.x.data();
  r.n = b.n;
  r.dim = b.dim;
  r.labels = &b.y;
  r.num_classes = 3;
  r.kind = subset::select::ScoreKind::Margin;
  r.epochs = 2;
  r.seed = 9;
  r.proxy.model = "linear";
  r.proxy.batch = 32;
  r.proxy.learning_rate = 0.01;
  ScoreSettings s = settings("linear", 2, 9);
  s.training.hidden = 256;  // the provider passes ProxySettings::hidden (unused by linear)
  CHECK(subset::select::compute_scores(r) == importance_scores(b.view(), 3, ScoreKind::Margin, s));
}
