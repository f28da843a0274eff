#pragma once
// The proxy-model trainer behind `subset evaluate`, `subset bench` and the importance scores:
// a linear (softmax regression) or MLP classifier trained with Adam on a store's features, or the
// reference ConvNet of dataset condensation trained with the evaluation protocol of Zhao & Bilen
// (SGD with momentum, learning rate divided by 10 after half of the epochs, optional DSA).
// This header includes no libtorch, so workflows and tools can use it cheaply.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libsubset/core/train_settings.h"

namespace subset::nn {

// Rows of a row-major float32 matrix with their class labels and optional per-row weights.
struct LabelledView {
  const float* features = nullptr;  // n x dim
  const int64_t* labels = nullptr;  // n, each in [0, num_classes)
  const float* weights = nullptr;   // n, >= 0, or nullptr for all ones
  int64_t n = 0;
  int64_t dim = 0;
};

// The settings (TrainSettings, train_schema, model_defaults, resolve_defaults) are declared
// without libtorch in libsubset/core/train_settings.h.
using subset::ModelDefaults;
using subset::TrainSettings;
using subset::model_defaults;
using subset::resolve_defaults;

struct TrainOutcome {
  double final_loss = 0;        // mean weighted training loss of the last epoch
  double test_accuracy = 0;     // fraction in [0, 1] on `test`
  int64_t steps = 0;
  int64_t epochs = 0;           // epochs trained (under schedule steps the last may be cut short)
  // The epoch whose weights were tested: under early-stop the one of the best validation accuracy
  // (validation_accuracy, a fraction of the held-out rows); otherwise the last, and no accuracy.
  int64_t best_epoch = 0;
  std::optional<double> validation_accuracy;
};

// Trains a fresh model on `train` and returns its accuracy on `test`. With weights, each example's
// cross-entropy counts in proportion to its weight (a batch's loss is sum(w*l)/sum(w)). Unset
// values are the defaults of the model and schedule (resolve_defaults). Under schedule early-stop
// the validation split (internal/schedule.h: stratified, from Rng(seed).fork(3)) is carved from
// `train` first; its rows are scored by plain accuracy (their weights ignored) and never trained on.
// Throws subset::Error on invalid settings or data (labels out of range, dims differ, n = 0; for
// convnet an image shape that does not fit the rows or is too small for the network, statistics
// of the wrong length; augment other than none, or dsa with a model other than convnet).
TrainOutcome train_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& settings);

}  // namespace subset::nn
