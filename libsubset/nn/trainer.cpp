#include "libsubset/nn/trainer.h"

#include <ATen/ops/from_blob.h>

#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/network_training.h"
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

// The caller's rows as tensors on `device`: borrowed (no copy) on the CPU, copied once otherwise.
at::Tensor borrow(const void* data, at::IntArrayRef sizes, at::ScalarType type, c10::Device device) {
  at::Tensor t = at::from_blob(const_cast<void*>(data), sizes, at::TensorOptions().dtype(type));
  return device.is_cpu() ? t : t.to(device);
}

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
  if (convnet) return internal::train_convnet_and_test(train, test, num_classes, settings, device);

  internal::TrainingTensors data;
  data.features = borrow(train.features, {train.n, train.dim}, at::kFloat, device);
  data.labels = borrow(train.labels, {train.n}, at::kLong, device);
  if (train.weights) {
    data.weights = borrow(train.weights, {train.n}, at::kFloat, device);
    data.host_weights = train.weights;
  }
  // Independent streams for the initial weights and the batch order, both from the one seed.
  const Rng root(settings.seed);
  internal::Classifier model =
      internal::make_classifier(kind, train.dim, settings.hidden, num_classes, root.fork(0).seed(), device);

  internal::LoopSettings loop;
  loop.epochs = *settings.epochs;
  loop.batch = settings.batch;
  loop.learning_rate = *settings.learning_rate;
  loop.seed = root.fork(1).seed();
  internal::LoopHooks hooks;
  if (settings.on_epoch) {
    hooks.on_epoch = [&](int64_t epoch, double loss) { settings.on_epoch(epoch, *settings.epochs, loss); };
  }
  const internal::LoopResult trained = internal::train_classifier(model, data, loop, hooks);

  const int64_t correct = internal::count_correct(model, borrow(test.features, {test.n, test.dim}, at::kFloat, device),
                                                  borrow(test.labels, {test.n}, at::kLong, device));
  TrainOutcome out;
  out.final_loss = trained.final_loss;
  out.test_accuracy = static_cast<double>(correct) / static_cast<double>(test.n);
  out.steps = trained.steps;
  return out;
}

}  // namespace subset::nn
