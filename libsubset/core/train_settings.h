#pragma once
// The settings of the proxy-model trainer (libsubset/nn/trainer.h) and their one declaration
// (train_schema). They live here, without libtorch, so that the workflows and the CLI configure
// training without including nn: with SUBSET_WITH_TORCH=OFF their headers still compile.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libsubset/core/settings_schema.h"

namespace subset {

// What a model trains with when the settings leave epochs or learning rate unset: linear and mlp
// 5 epochs of Adam at 1e-3; convnet the protocol of Zhao & Bilen's evaluate_synset, 300 epochs of
// SGD at 0.01. Under schedule early-stop, epochs is a cap: early_stop_epochs, so that a small set
// (a few steps an epoch) can train long enough to stop on its own. Weight decay: none for Adam
// (torch.optim.Adam's default), the protocol's 5e-4 for the convnet's SGD. The one place these
// numbers live (the schema's notes, --help and the docs quote them).
struct ModelDefaults {
  int64_t epochs;
  double learning_rate;
  int64_t early_stop_epochs;
  double weight_decay;
};
constexpr ModelDefaults model_defaults(std::string_view model) {
  return model == "convnet" ? ModelDefaults{300, 0.01, 300, 5e-4} : ModelDefaults{5, 1e-3, 200, 0.0};
}

// Defaults of the schedule-specific parameters (set by resolve_defaults under their schedule only).
// 300 steps: a 1% Fashion-MNIST subset (600 rows, batch 256, 3 steps an epoch) trains 100 epochs.
constexpr int64_t kDefaultSteps = 300;
constexpr int64_t kDefaultPatience = 10;
constexpr double kDefaultValidation = 0.1;

struct TrainSettings {
  std::string model = "mlp";        // "linear" | "mlp" | "convnet"
  int64_t hidden = 256;             // MLP hidden width (of each hidden layer, ReLU)
  int64_t depth = 1;                // MLP hidden layers, each `hidden` wide (ReLU)
  // MLP: the probability that dropout zeroes a hidden unit after each ReLU, in training only (the
  // kept ones scaled by 1 / (1 - dropout), as torch.nn.Dropout); 0: no dropout.
  double dropout = 0;
  // Unset: model_defaults(model), so that a convnet is trained with its protocol whatever the
  // caller. resolve_defaults() fills them; reports and cache keys carry the resolved values.
  std::optional<int64_t> epochs;
  // How long to train (docs/methods/evaluate.md, "Training schedule"):
  //  "epochs"     `epochs` passes over the rows (the protocol of the figures before early-stop);
  //  "steps"      `steps` optimizer steps whatever the set's size: ceil(steps / batches per epoch)
  //               epochs, the last one cut when the budget is spent; `epochs` does not apply;
  //  "early-stop" a stratified `validation` fraction of the rows is held out, training runs up to
  //               `epochs` epochs (a cap) and stops after `patience` epochs without a higher
  //               validation accuracy; the best epoch's weights are the ones tested.
  // steps, patience and validation apply to their schedule only (set elsewhere: ParamError); unset,
  // resolve_defaults fills them under their schedule.
  std::string schedule = "early-stop";
  std::optional<int64_t> steps;
  std::optional<int64_t> patience;
  std::optional<double> validation;
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
  // L2 weight decay of every parameter, added to the gradient as wd * p before the optimiser's
  // update: torch.optim.Adam's weight_decay (linear, mlp; not AdamW's decoupled form) and
  // torch.optim.SGD's (convnet). Unset: model_defaults(model).weight_decay.
  std::optional<double> weight_decay;
  // Called after each epoch with (epoch, epochs, mean training loss); may throw to cancel.
  std::function<void(int64_t, int64_t, double)> on_epoch;
};

// The tunables of TrainSettings (all but the seed, the data-derived ConvNet inputs and the
// callback), by the names of their CLI options: model, hidden, depth, dropout, epochs, batch, lr,
// weight-decay, augment, momentum, device. Their "methods" are models.
const SettingsSchema<TrainSettings>& train_schema();

// `settings` with every unset value that applies to its schedule replaced by its default
// (model_defaults, kDefault*); given values are kept as they are. Under schedule steps epochs stays
// unset; under epochs and steps patience and validation do.
TrainSettings resolve_defaults(TrainSettings settings);

// Checks a device name's form: cpu, cuda or cuda:N (whether this libtorch has CUDA and the GPU
// exists is nn's to check); throws ParamError naming `parameter`.
void check_device_name(const std::string& device, const std::string& parameter = "device");

// Checks every tunable against its domain and that those given apply to the model (augment dsa
// needs convnet) and to the schedule (steps; patience and validation; not epochs under steps);
// throws ParamError naming the parameter.
void check_train_settings(const TrainSettings& settings);

}  // namespace subset
