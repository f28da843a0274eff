// Tests for the training schedules (TrainSettings::schedule, nn/internal/schedule.h): the
// stratified validation split against hand-counted cases, early stopping after exactly `patience`
// epochs without improvement with the best epoch's weights tested, and the same number of steps
// for sets of any size.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/core/Tensor.h>
#include <ATen/ops/tensor.h>
#include "support/torch_doctest.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/schedule.h"
#include "libsubset/nn/trainer.h"
#include "support/error_of.h"
#include "support/toy_classes.h"

namespace {

using subset::nn::LabelledView;
using subset::nn::train_and_test;
using subset::nn::TrainSettings;
using subset::test::error_of;
namespace internal = subset::nn::internal;

// Three classes in 5 dimensions: class c is `margin` e_c plus N(0, noise^2) per coordinate.
using Toy = subset::test::ToyClasses;
using subset::test::make_toy_classes;
Toy make_toy(int64_t n, uint64_t seed, double margin, double noise) { return make_toy_classes(n, seed, margin, noise); }
Toy take(const Toy& t, const std::vector<int64_t>& rows) { return subset::test::take_rows(t, rows); }

TrainSettings settings(const std::string& model, const std::string& schedule) {
  TrainSettings s;
  s.model = model;
  s.schedule = schedule;
  s.hidden = 16;
  s.batch = 32;
  s.learning_rate = 0.01;
  s.seed = 5;
  return s;
}

std::map<int64_t, int64_t> count_by_label(const std::vector<int64_t>& rows, const std::vector<int64_t>& labels) {
  std::map<int64_t, int64_t> out;
  for (int64_t r : rows) ++out[labels[static_cast<size_t>(r)]];
  return out;
}

}  // namespace

TEST_CASE("stratified_split holds out round(fraction * n_c) of each class, at least one, never all") {
  // Class 0: 10 rows, 1: 5, 2: 1, 3: 2, interleaved.
  std::vector<int64_t> labels;
  const std::vector<int64_t> sizes{10, 5, 1, 2};
  for (int64_t i = 0; i < 10; ++i)
    for (int64_t c = 0; c < 4; ++c)
      if (i < sizes[static_cast<size_t>(c)]) labels.push_back(c);
  const auto n = static_cast<int64_t>(labels.size());
  // Hand-counted: 0.1 -> 1, round(0.5) = 1, none of a single row, round(0.2) = 0 raised to 1;
  // 0.5 -> 5, round(2.5) = 3, 0, 1; 0.9 -> 9, round(4.5) = 5 capped at 4, 0, round(1.8) = 2 capped at 1.
  const std::map<double, std::map<int64_t, int64_t>> expected{
      {0.1, {{0, 1}, {1, 1}, {3, 1}}}, {0.5, {{0, 5}, {1, 3}, {3, 1}}}, {0.9, {{0, 9}, {1, 4}, {3, 1}}}};
  for (const auto& [fraction, held] : expected) {
    CAPTURE(fraction);
    const internal::ValidationSplit s = internal::stratified_split(labels.data(), n, 4, fraction, 11);
    CHECK(count_by_label(s.validation, labels) == held);
    std::vector<int64_t> all = s.fit;
    all.insert(all.end(), s.validation.begin(), s.validation.end());
    std::sort(all.begin(), all.end());
    CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
    CHECK(static_cast<int64_t>(all.size()) == n);
    CHECK(std::is_sorted(s.fit.begin(), s.fit.end()));
    CHECK(std::is_sorted(s.validation.begin(), s.validation.end()));
    CHECK(internal::stratified_split(labels.data(), n, 4, fraction, 11).validation == s.validation);
  }
  CHECK(internal::stratified_split(labels.data(), n, 4, 0.5, 11).validation !=
        internal::stratified_split(labels.data(), n, 4, 0.5, 12).validation);
  const std::vector<int64_t> singletons{0, 1, 2};
  CHECK(error_of([&] { internal::stratified_split(singletons.data(), 3, 3, 0.5, 1); }).where() == "validation");
}

TEST_CASE("BestEpoch stops after exactly `patience` epochs without a higher accuracy and restores the best") {
  at::Tensor w = at::tensor(std::vector<float>{0.0f});
  internal::BestEpoch best({w}, 3);
  const std::vector<double> accuracy{0.5, 0.6, 0.6, 0.55, 0.6};
  for (size_t e = 0; e < accuracy.size(); ++e) {
    w.fill_(static_cast<double>(e + 1));  // the weights "of epoch e + 1"
    CHECK(best.record(static_cast<int64_t>(e + 1), accuracy[e]) == (e + 1 == accuracy.size()));
  }
  CHECK(best.best_epoch() == 2);
  CHECK(best.best_accuracy() == 0.6);
  best.restore();
  CHECK(w.item<float>() == 2.0f);
}

TEST_CASE("early-stop: a set learnt in its first epoch trains 1 + patience epochs and reports epoch 1") {
  const Toy train = make_toy(300, 1, 6.0, 0.1), test = make_toy(90, 2, 6.0, 0.1);
  for (const std::string model : {"linear", "mlp"}) {
    CAPTURE(model);
    TrainSettings s = settings(model, "early-stop");
    s.learning_rate = 0.1;
    s.patience = 4;
    int64_t calls = 0, cap = 0;
    s.on_epoch = [&](int64_t, int64_t epochs, double) {
      ++calls;
      cap = epochs;
    };
    const auto out = train_and_test(train.view(), test.view(), 3, s);
    CHECK(out.best_epoch == 1);
    CHECK(out.validation_accuracy == 1.0);
    CHECK(out.epochs == 5);
    CHECK(calls == 5);
    CHECK(cap == 200);  // the default cap of linear and mlp
    CHECK(out.test_accuracy == 1.0);
  }
}

TEST_CASE("early-stop tests the best epoch's weights: the same as training the fit rows for that many epochs") {
  const Toy train = make_toy(240, 3, 1.0, 1.0), test = make_toy(600, 4, 1.0, 1.0);
  for (const std::string model : {"linear", "mlp"}) {
    CAPTURE(model);
    TrainSettings s = settings(model, "early-stop");
    s.patience = 3;
    s.epochs = 40;
    s.validation = 0.25;
    const auto stopped = train_and_test(train.view(), test.view(), 3, s);
    REQUIRE(stopped.validation_accuracy);
    CHECK(stopped.best_epoch < stopped.epochs);  // it did train past its best
    CHECK(stopped.epochs - stopped.best_epoch == 3);

    // The split train_and_test carves (documented: Rng(seed).fork(3)), trained as a plain run.
    const internal::ValidationSplit split = internal::stratified_split(
        train.y.data(), train.n, 3, 0.25, subset::Rng(s.seed).fork(internal::kValidationStream).seed());
    const Toy fit = take(train, split.fit);
    TrainSettings plain = settings(model, "epochs");
    plain.epochs = stopped.best_epoch;
    const auto replay = train_and_test(fit.view(), test.view(), 3, plain);
    CHECK(replay.test_accuracy == stopped.test_accuracy);
    CHECK(replay.epochs == stopped.best_epoch);
  }
}

TEST_CASE("steps: every set gets the same optimizer steps, the last epoch cut at the budget") {
  for (const std::string model : {"linear", "mlp"}) {
    CAPTURE(model);
    TrainSettings s = settings(model, "steps");
    s.steps = 50;
    const Toy small = make_toy(100, 1, 3.0, 0.3), large = make_toy(1000, 2, 3.0, 0.3);
    const auto a = train_and_test(small.view(), small.view(), 3, s);
    const auto b = train_and_test(large.view(), small.view(), 3, s);
    CHECK(a.steps == 50);
    CHECK(b.steps == 50);
    CHECK(a.epochs == 13);  // 4 steps an epoch: ceil(50 / 4)
    CHECK(b.epochs == 2);   // 32 steps an epoch
    CHECK_FALSE(a.validation_accuracy);
    int64_t planned = 0;
    s.on_epoch = [&](int64_t, int64_t epochs, double) { planned = epochs; };
    train_and_test(small.view(), small.view(), 3, s);
    CHECK(planned == 13);
  }
}

TEST_CASE("a schedule's own parameters are refused under another schedule, naming the parameter") {
  const Toy t = make_toy(30, 1, 3.0, 0.3);
  TrainSettings s = settings("mlp", "early-stop");
  s.steps = 10;
  CHECK(error_of([&] { train_and_test(t.view(), t.view(), 3, s); }).where() == "steps");
  s = settings("mlp", "steps");
  s.epochs = 3;
  CHECK(error_of([&] { train_and_test(t.view(), t.view(), 3, s); }).where() == "epochs");
  s = settings("mlp", "epochs");
  s.patience = 3;
  CHECK(error_of([&] { train_and_test(t.view(), t.view(), 3, s); }).where() == "patience");
  s = settings("mlp", "steps");
  s.validation = 0.2;
  CHECK(error_of([&] { train_and_test(t.view(), t.view(), 3, s); }).where() == "validation");
  s = settings("mlp", "sometimes");
  CHECK(error_of([&] { train_and_test(t.view(), t.view(), 3, s); }).where() == "schedule");
  // One row per class: nothing can be held out.
  const Toy three = make_toy(3, 1, 3.0, 0.3);
  CHECK(error_of([&] { train_and_test(three.view(), three.view(), 3, settings("mlp", "early-stop")); }).where() ==
        "validation");
}
