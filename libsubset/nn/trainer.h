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

namespace subset::nn {

// Rows of a row-major float32 matrix with their class labels and optional per-row weights.
struct LabelledView {
  const float* features = nullptr;  // n x dim
  const int64_t* labels = nullptr;  // n, each in [0, num_classes)
  const float* weights = nullptr;   // n, >= 0, or nullptr for all ones
  int64_t n = 0;
  int64_t dim = 0;
};

// What a model trains with when the settings leave epochs or learning rate unset: linear and mlp
// 5 epochs of Adam at 1e-3; convnet the protocol of Zhao & Bilen's evaluate_synset, 300 epochs of
// SGD at 0.01. The one place these numbers live (the CLI's help and the docs quote them).
struct ModelDefaults {
  int64_t epochs;
  double learning_rate;
};
constexpr ModelDefaults model_defaults(std::string_view model) {
  return model == "convnet" ? ModelDefaults{300, 0.01} : ModelDefaults{5, 1e-3};
}

struct TrainSettings {
  std::string model = "mlp";        // "linear" | "mlp" | "convnet"
  int64_t hidden = 256;             // MLP hidden width (one hidden layer, ReLU)
  // Unset: model_defaults(model), so that a convnet is trained with its protocol whatever the
  // caller. resolve_defaults() fills them; reports and cache keys carry the resolved values.
  std::optional<int64_t> epochs;
  int64_t batch = 256;
  std::optional<double> learning_rate;  // Adam (linear, mlp); SGD (convnet)
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

// `settings` with every unset value replaced by its model's default (model_defaults); given values
// are kept as they are (validated where they are used).
inline TrainSettings resolve_defaults(TrainSettings settings) {
  const ModelDefaults d = model_defaults(settings.model);
  if (!settings.epochs) settings.epochs = d.epochs;
  if (!settings.learning_rate) settings.learning_rate = d.learning_rate;
  return settings;
}

struct TrainOutcome {
  double final_loss = 0;        // mean weighted training loss of the last epoch
  double test_accuracy = 0;     // fraction in [0, 1] on `test`
  int64_t steps = 0;
};

// Trains a fresh model on `train` and returns its accuracy on `test`. With weights, each example's
// cross-entropy counts in proportion to its weight (a batch's loss is sum(w*l)/sum(w)). Unset
// epochs and learning rate are the model's defaults (resolve_defaults).
// Throws subset::Error on invalid settings or data (labels out of range, dims differ, n = 0; for
// convnet an image shape that does not fit the rows or is too small for the network, statistics
// of the wrong length; augment other than none, or dsa with a model other than convnet).
TrainOutcome train_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& settings);

}  // namespace subset::nn
