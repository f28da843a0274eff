#include "libsubset/nn/trainer.h"

#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/network_training.h"
#include "libsubset/nn/internal/schedule.h"
#include "libsubset/nn/internal/train_loop.h"
#include "libsubset/nn/torch_threads.h"

namespace subset::nn {
namespace {

// Shapes, labels and weights of one split, before any work.
void check_view(const LabelledView& v, int64_t num_classes, const char* split) {
  SUBSET_CHECK(v.n > 0, split, "the " << split << " set has no rows");
  SUBSET_CHECK(v.dim > 0, split, "rows have no features (dim = " << v.dim << ")");
  SUBSET_CHECK(v.features && v.labels, split, "features or labels missing");
  for (int64_t i = 0; i < v.n; ++i) {
    const int64_t y = v.labels[i];
    SUBSET_CHECK(y >= 0 && y < num_classes, split,
                 "label " << y << " of row " << i << " is outside [0, " << num_classes << ")");
  }
}

void check_weights(const LabelledView& v) {
  if (!v.weights) return;
  bool any_positive = false;
  for (int64_t i = 0; i < v.n; ++i) {
    const float w = v.weights[i];
    SUBSET_CHECK(std::isfinite(w) && w >= 0, "weights",
                 "weight " << w << " of row " << i << " is not a finite number >= 0");
    any_positive = any_positive || w > 0;
  }
  SUBSET_CHECK(any_positive, "weights", "all " << v.n << " weights are zero: nothing to train on");
}

// A training set cut for schedule early-stop: the rows trained on (with their weights) and the
// validation rows, gathered into buffers the views point into (hence neither copied nor moved).
class HeldOut {
 public:
  HeldOut(const LabelledView& train, int64_t num_classes, const TrainSettings& settings) {
    const internal::ValidationSplit split =
        internal::stratified_split(train.labels, train.n, num_classes, settings.validation.value(),
                                   Rng(settings.seed).fork(internal::kValidationStream).seed());
    fit = gather(train, split.fit, fit_x_, fit_y_, train.weights ? &fit_w_ : nullptr);
    validation = gather(train, split.validation, val_x_, val_y_, nullptr);
  }
  HeldOut(const HeldOut&) = delete;
  HeldOut& operator=(const HeldOut&) = delete;

  LabelledView fit, validation;

 private:
  static LabelledView gather(const LabelledView& from, const std::vector<int64_t>& rows, std::vector<float>& x,
                             std::vector<int64_t>& y, std::vector<float>* w) {
    const auto dim = static_cast<size_t>(from.dim);
    x.resize(rows.size() * dim);
    for (size_t i = 0; i < rows.size(); ++i) {
      const float* row = from.features + static_cast<size_t>(rows[i]) * dim;
      std::copy(row, row + dim, x.begin() + static_cast<std::ptrdiff_t>(i * dim));
      y.push_back(from.labels[rows[i]]);
      if (w) w->push_back(from.weights[rows[i]]);
    }
    return {x.data(), y.data(), w ? w->data() : nullptr, static_cast<int64_t>(rows.size()), from.dim};
  }

  std::vector<float> fit_x_, val_x_, fit_w_;
  std::vector<int64_t> fit_y_, val_y_;
};

}  // namespace

TrainOutcome train_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& given) {
  enable_torch_thread_control();
  check_train_settings(given);
  const TrainSettings settings = resolve_defaults(given);
  const bool convnet = settings.model == "convnet";
  const internal::ModelKind kind = convnet ? internal::ModelKind::Mlp : internal::parse_model_kind(settings.model, "model");
  SUBSET_CHECK(num_classes >= 1, "train", "number of classes must be at least 1, got " << num_classes);
  check_view(train, num_classes, "train");
  check_view(test, num_classes, "test");
  SUBSET_CHECK(train.dim == test.dim, "test",
               "test rows have " << test.dim << " features, training rows " << train.dim);
  check_weights(train);
  const c10::Device device = internal::parse_device(settings.device);
  std::optional<HeldOut> held;
  if (settings.schedule == "early-stop") {
    held.emplace(train, num_classes, settings);
    check_weights(held->fit);
  }
  const LabelledView& fit = held ? held->fit : train;
  const LabelledView* validation = held ? &held->validation : nullptr;
  if (convnet) return internal::train_convnet_and_test(fit, test, num_classes, settings, device, validation);

  const internal::TrainingTensors data = internal::training_tensors(fit, device);
  // Independent streams for the initial weights and the batch order, both from the one seed.
  const Rng root(settings.seed);
  internal::Classifier model =
      internal::make_classifier(kind, fit.dim, settings.hidden, num_classes, root.fork(0).seed(), device, settings.depth);

  internal::LoopSettings loop;
  loop.epochs = internal::planned_epochs(settings, fit.n);
  loop.max_steps = settings.steps.value_or(0);
  loop.batch = settings.batch;
  loop.learning_rate = *settings.learning_rate;
  loop.weight_decay = *settings.weight_decay;
  loop.dropout = settings.dropout;
  loop.seed = root.fork(1).seed();
  internal::LoopHooks hooks;
  if (settings.on_epoch) {
    hooks.on_epoch = [&](int64_t epoch, double loss) { settings.on_epoch(epoch, loop.epochs, loss); };
  }
  std::optional<internal::BestEpoch> best;
  at::Tensor val_x, val_y;
  if (validation) {
    val_x = internal::borrow(validation->features, {validation->n, validation->dim}, at::kFloat, device);
    val_y = internal::borrow(validation->labels, {validation->n}, at::kLong, device);
    best.emplace(model.params, *settings.patience);
    hooks.stop_after = [&](int64_t epoch) {
      const int64_t correct = internal::count_correct(model, val_x, val_y);
      return best->record(epoch, static_cast<double>(correct) / static_cast<double>(validation->n));
    };
  }
  const internal::LoopResult trained = internal::train_classifier(model, data, loop, hooks);
  if (best) best->restore();

  const int64_t correct = internal::count_correct(model, internal::borrow(test.features, {test.n, test.dim}, at::kFloat, device),
                                                  internal::borrow(test.labels, {test.n}, at::kLong, device));
  TrainOutcome out;
  out.final_loss = trained.final_loss;
  out.test_accuracy = static_cast<double>(correct) / static_cast<double>(test.n);
  out.steps = trained.steps;
  out.epochs = trained.epochs;
  out.best_epoch = best ? best->best_epoch() : trained.epochs;
  if (best) out.validation_accuracy = best->best_accuracy();
  return out;
}

}  // namespace subset::nn
