#pragma once
// The proxy-model trainer behind `subset evaluate`, `subset bench` and the importance scores:
// a linear (softmax regression) or MLP classifier trained with Adam on a store's features, or the
// reference ConvNet of dataset condensation trained with the evaluation protocol of Zhao & Bilen
// (SGD with momentum, learning rate divided by 10 after half of the epochs, optional DSA).
// This header includes no libtorch, so workflows and tools can use it cheaply.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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
  std::string model = "mlp";        // "linear" | "mlp" | "convnet"
  int64_t hidden = 256;             // MLP hidden width (one hidden layer, ReLU)
  int64_t epochs = 5;
  int64_t batch = 256;
  double learning_rate = 1e-3;      // Adam (linear, mlp); SGD (convnet: the reference's 0.01)
  uint64_t seed = 0;                // initial weights, batch order and augmentation draws
  std::string device = "cpu";       // "cpu" | "cuda"

  // ConvNet only (docs/methods/evaluate.md, "ConvNet protocol"); ignored by linear and mlp.
  std::vector<int64_t> image_shape;  // [C, H, W] of each row, C*H*W = dim; required by convnet
  // Per-channel standardisation (x - mean[c]) / stddev[c] of every input, training and test alike;
  // empty: none. `subset evaluate` takes them from the store's full training split, so that real
  // subsets and condensed sets are standardised identically.
  std::vector<float> channel_mean;
  std::vector<float> channel_stddev;
  std::string augment = "none";     // "none" | "dsa": DSA on every training batch (convnet only)
  double momentum = 0.9;            // SGD momentum (convnet)
  double weight_decay = 5e-4;       // SGD L2 weight decay on every parameter (convnet)
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
// Throws subset::Error on invalid settings or data (labels out of range, dims differ, n = 0; for
// convnet an image shape that does not fit the rows or is too small for the network, statistics
// of the wrong length; augment other than none, or dsa with a model other than convnet).
TrainOutcome train_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& settings);

}  // namespace subset::nn
