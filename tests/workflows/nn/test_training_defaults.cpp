// The model's own training defaults (nn::model_defaults) reach a library caller who sets nothing but
// the model: the ConvNet protocol's 300 epochs of SGD at 0.01 once lived only in the CLI, so
// run_evaluate and run_bench with "convnet" trained 5 epochs at 1e-3. A training is never run to
// the end here: on_epoch records the epoch count the trainer was given and cancels after epoch 1.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libsubset/io/store_writer.h"
#include "libsubset/nn/gemm_backend.h"
#include "libsubset/nn/scores.h"
#include "libsubset/nn/trainer.h"
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/evaluate.h"
#include "support/temp_dir.h"

using subset::io::Split;
using subset::io::StoreWriter;
using subset::nn::TrainSettings;
using subset::test::TempDir;

namespace {

constexpr int64_t kSide = 8, kDim = kSide * kSide;

// Two classes of 8x8 single-channel images (bright or dark left half), 24 training rows, 8 test rows.
std::vector<float> images(int64_t n, std::vector<int64_t>& labels) {
  std::vector<float> x(static_cast<size_t>(n * kDim));
  labels.assign(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    labels[static_cast<size_t>(i)] = i % 2;
    for (int64_t p = 0; p < kDim; ++p)
      x[static_cast<size_t>(i * kDim + p)] =
          static_cast<float>(((p % kSide) < kSide / 2) == (i % 2 == 0)) + 0.01f * static_cast<float>((i * 7 + p) % 5);
  }
  return x;
}

std::string write_image_store(const TempDir& dir) {
  const std::string path = dir.file("images.h5");
  StoreWriter w(path, false);
  for (const Split split : {Split::Train, Split::Test}) {
    const int64_t n = split == Split::Train ? 24 : 8;
    std::vector<int64_t> labels;
    const std::vector<float> x = images(n, labels);
    w.begin_features(split, n, kDim);
    w.write_rows(split, n, x.data());
    w.write_labels(split, labels);
  }
  w.set_image_shape({1, kSide, kSide});
  w.commit();
  return path;
}

// Thrown by on_epoch after the first epoch: what the trainer was told the epoch count is.
struct Stopped {
  int64_t epochs;
};
void stop_after_first_epoch(TrainSettings& s) {
  s.on_epoch = [](int64_t, int64_t epochs, double) { throw Stopped{epochs}; };
}

nlohmann::json cache_key(const std::string& cache_path) {
  std::ifstream f(cache_path);
  const nlohmann::json cache = nlohmann::json::parse(f);
  REQUIRE(cache.at("entries").size() == 1);
  return cache["entries"][0].at("key");
}

subset::workflows::EvaluateJob evaluate_job(const TempDir& dir, const std::string& store, const std::string& model) {
  subset::workflows::EvaluateJob job;
  job.store = store;
  job.training.model = model;
  job.repeats = 1;
  job.cache_path = dir.file("cache.json");
  return job;
}

}  // namespace

TEST_CASE("resolve_defaults: the ConvNet protocol, the MLP's and linear's Adam, and given values win") {
  TrainSettings convnet;
  convnet.model = "convnet";
  const TrainSettings c = subset::nn::resolve_defaults(convnet);
  CHECK(c.epochs == 300);
  CHECK(c.learning_rate == doctest::Approx(0.01));
  for (const std::string model : {"mlp", "linear"}) {
    TrainSettings s;
    s.model = model;
    s.schedule = "epochs";
    const TrainSettings r = subset::nn::resolve_defaults(s);
    CHECK(r.epochs == 5);
    CHECK(r.learning_rate == doctest::Approx(1e-3));
  }
  // mlp and early-stop are the defaults: epochs is the cap, and only early-stop's own are set.
  const TrainSettings d = subset::nn::resolve_defaults(TrainSettings{});
  CHECK(d.schedule == "early-stop");
  CHECK(d.epochs == 200);
  CHECK(d.patience == 10);
  CHECK(d.validation == doctest::Approx(0.1));
  CHECK_FALSE(d.steps);
  TrainSettings steps;
  steps.schedule = "steps";
  const TrainSettings st = subset::nn::resolve_defaults(steps);
  CHECK(st.steps == 300);
  CHECK_FALSE(st.epochs);
  CHECK_FALSE(st.patience);
  CHECK_FALSE(st.validation);
  convnet.epochs = 7;
  convnet.learning_rate = 0.5;
  const TrainSettings given = subset::nn::resolve_defaults(convnet);
  CHECK(given.epochs == 7);
  CHECK(given.learning_rate == doctest::Approx(0.5));
}

TEST_CASE("run_evaluate with only model convnet trains the protocol's 300 epochs") {
  const TempDir dir;
  subset::workflows::EvaluateJob job = evaluate_job(dir, write_image_store(dir), "convnet");
  stop_after_first_epoch(job.training);
  int64_t epochs = 0;
  try {
    subset::workflows::run_evaluate(job);
  } catch (const Stopped& s) {
    epochs = s.epochs;
  }
  CHECK(epochs == 300);
  CHECK_FALSE(std::filesystem::exists(job.cache_path));  // nothing recorded for a cancelled training
}

TEST_CASE("run_evaluate with only model convnet reports and caches SGD at 0.01; given values win") {
  const TempDir dir;
  const std::string store = write_image_store(dir);
  subset::workflows::EvaluateJob job = evaluate_job(dir, store, "convnet");
  job.training.epochs = 1;  // 300 is what is left unset above; one epoch keeps this quick
  const subset::workflows::EvaluateResult r = subset::workflows::run_evaluate(job);
  CHECK(r.training.epochs == 1);
  CHECK(r.training.learning_rate == doctest::Approx(0.01));
  const nlohmann::json j = subset::workflows::to_json(r);
  CHECK(j.at("epochs") == 1);
  CHECK(j.at("lr").get<double>() == doctest::Approx(0.01));
  CHECK(subset::workflows::format_evaluation(r).find("SGD lr 0.01,") != std::string::npos);
  const nlohmann::json key = cache_key(job.cache_path);
  CHECK(key.at("epochs") == 1);
  CHECK(key.at("learning_rate").get<double>() == doctest::Approx(0.01));

  std::filesystem::remove(job.cache_path);
  job.training.learning_rate = 0.05;
  const subset::workflows::EvaluateResult given = subset::workflows::run_evaluate(job);
  CHECK(given.training.learning_rate == doctest::Approx(0.05));
  CHECK(cache_key(job.cache_path).at("learning_rate").get<double>() == doctest::Approx(0.05));
}

TEST_CASE("run_evaluate with the default model trains, reports and caches the MLP's 5 epochs at 1e-3") {
  const TempDir dir;
  subset::workflows::EvaluateJob job = evaluate_job(dir, write_image_store(dir), "mlp");
  job.training.schedule = "epochs";
  int64_t trained_epochs = 0;
  job.training.on_epoch = [&](int64_t, int64_t epochs, double) { trained_epochs = epochs; };
  const subset::workflows::EvaluateResult r = subset::workflows::run_evaluate(job);
  CHECK(trained_epochs == 5);
  CHECK(r.training.epochs == 5);
  CHECK(r.training.learning_rate == doctest::Approx(1e-3));
  CHECK(subset::workflows::to_json(r).at("epochs") == 5);
  CHECK(subset::workflows::to_json(r).at("full").at("backend") == subset::nn::gemm_backend());
  CHECK(subset::workflows::format_evaluation(r).find(", 5 epochs, 1 repeat") != std::string::npos);
  CHECK(subset::workflows::format_evaluation(r).find("1 repeats") == std::string::npos);
  // A result put together by hand (as bench's rows are) reports its model's defaults too.
  // (early-stop, the default schedule: its cap).
  CHECK(subset::workflows::to_json(subset::workflows::EvaluateResult{}).at("epochs") == 200);
  const nlohmann::json key = cache_key(job.cache_path);
  CHECK(key.at("epochs") == 5);
  CHECK(key.at("backend") == subset::nn::gemm_backend());
  CHECK(key.at("learning_rate").get<double>() == doctest::Approx(1e-3));
}

TEST_CASE("run_bench with only model convnet trains the protocol's 300 epochs") {
  const TempDir dir;
  subset::workflows::BenchJob job;
  job.store = write_image_store(dir);
  job.methods = {"random"};
  job.fractions = {0.5};
  job.repeats = 1;
  job.training.model = "convnet";
  stop_after_first_epoch(job.training);
  job.output_dir = dir.file("sweep");
  int64_t epochs = 0;
  try {
    subset::workflows::run_bench(job);
  } catch (const Stopped& s) {
    epochs = s.epochs;
  }
  CHECK(epochs == 300);
  CHECK_FALSE(std::filesystem::exists(job.output_dir));
}

TEST_CASE("train_and_test and importance_scores apply the model's defaults themselves") {
  std::vector<int64_t> labels;
  const std::vector<float> x = images(24, labels);
  const subset::nn::LabelledView view{x.data(), labels.data(), nullptr, 24, kDim};
  TrainSettings convnet;
  convnet.model = "convnet";
  convnet.image_shape = {1, kSide, kSide};
  stop_after_first_epoch(convnet);
  int64_t epochs = 0;
  try {
    subset::nn::train_and_test(view, view, 2, convnet);
  } catch (const Stopped& s) {
    epochs = s.epochs;
  }
  CHECK(epochs == 300);

  subset::nn::ScoreSettings scores;  // the proxy left as default-constructed: an MLP
  int64_t all_epochs = 0;
  scores.progress = [&](int64_t, int64_t all) { all_epochs = all; };
  const std::vector<float> loss = subset::nn::importance_scores(view, 2, subset::nn::ScoreKind::Loss, scores);
  CHECK(loss.size() == 24);
  CHECK(all_epochs == 5 + 1);  // 5 epochs and the scoring pass
}
