#pragma once
// The proxy-model trainer behind `subset evaluate`, `subset bench` and the importance scores:
// a linear (softmax regression) or MLP classifier trained with Adam on a store's features.
// This header includes no libtorch, so workflows and tools can use it cheaply.
#include <cstdint>
#include <functional>
#include <string>

namespace subset::nn {

// Rows of a row-major float32 matrix with their class labels and optional per-row weights.
struct LabelledView {
  const float* features = nullptr;  // n x dim
  const int64_t* labels = nullptr;  // n, each in [0, num_classes)
  const float* weights = nullptr;   // n, >= 0, or nullptr for all ones
  int64_t n = 0;
  int64_t dim = 0;
};

struct TrainSettings {
  std::string model = "mlp";        // "linear" | "mlp"
  int64_t hidden = 256;             // MLP hidden width (one hidden layer, ReLU)
  int64_t epochs = 5;
  int64_t batch = 256;
  double learning_rate = 1e-3;      // Adam
  uint64_t seed = 0;                // initial weights and batch order
  std::string device = "cpu";       // "cpu" | "cuda"
  // Called after each epoch with (epoch, epochs, mean training loss); may throw to cancel.
  std::function<void(int64_t, int64_t, double)> on_epoch;
};

struct TrainOutcome {
  double final_loss = 0;        // mean weighted training loss of the last epoch
  double test_accuracy = 0;     // fraction in [0, 1] on `test`
  int64_t steps = 0;
};

// Trains a fresh model on `train` and returns its accuracy on `test`. With weights, each example's
// cross-entropy counts in proportion to its weight (a batch's loss is sum(w*l)/sum(w)).
// Throws subset::Error on invalid settings or data (labels out of range, dims differ, n = 0).
TrainOutcome train_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& settings);

}  // namespace subset::nn
