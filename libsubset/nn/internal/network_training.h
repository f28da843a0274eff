#pragma once
// Training the reference ConvNet (network.h) with the evaluation protocol of Zhao & Bilen's
// evaluate_synset (docs/methods/evaluate.md, "ConvNet protocol"): SGD with momentum and weight
// decay, the learning rate divided by 10 after half of the epochs with a fresh optimiser (the
// momentum restarts), shuffled mini-batches, optionally DSA on every batch. The trainer
// (trainer.h) dispatches --model convnet here.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "libsubset/nn/internal/network.h"
#include "libsubset/nn/trainer.h"

namespace subset::nn::internal {

// torch.optim.SGD(params, lr, momentum, weight_decay) with dampening 0 and no Nesterov:
//   d = grad + weight_decay * p;  buf = d (first step) or momentum * buf + d;  p -= lr * buf.
// Parameters without a gradient are left alone.
class Sgd {
 public:
  Sgd(std::vector<at::Tensor> params, double learning_rate, double momentum, double weight_decay);
  void zero_grad();
  void step();
  double learning_rate() const { return lr_; }

 private:
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> buffers_;  // momentum buffers, undefined until the first step
  double lr_, momentum_, weight_decay_;
};

// The learning rate of epoch `epoch` (1-based) of `epochs`: `base` for the first ceil(epochs / 2),
// base / 10 afterwards.
double scheduled_learning_rate(double base, int64_t epoch, int64_t epochs);
// The last epoch at the base rate: ceil(epochs / 2).
int64_t decay_after_epoch(int64_t epochs);

// The training images, already standardised, on the network's device.
struct ImageTrainingData {
  at::Tensor images;  // [n, C, H, W] float32, contiguous
  at::Tensor labels;  // [n] int64
  at::Tensor weights;  // [n] float32 > 0, or undefined for all ones
  std::vector<float> host_weights;  // the same weights on the host when defined
};

struct NetworkLoopSettings {
  int64_t epochs = 300;
  int64_t batch = 256;
  double learning_rate = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  bool dsa = false;
  uint64_t order_seed = 0;    // batch order: a Fisher-Yates shuffle per epoch
  uint64_t augment_seed = 0;  // one dsa_augment seed per batch, drawn in order
  // > 0: stop at this many steps, cutting the last epoch (schedule steps); `epochs` is then the
  // planned count, ceil(max_steps / batches per epoch), which places the learning-rate decay.
  int64_t max_steps = 0;
};

struct NetworkEpoch {
  int64_t epoch;         // 1-based
  double learning_rate;  // the rate this epoch's steps used
  double loss;           // sum(w * l) / sum(w) over the epoch's rows, each l before its step
};

struct NetworkLoopResult {
  double final_loss = 0;
  int64_t steps = 0;
  int64_t epochs = 0;  // epochs begun
  // Schedule early-stop (train_convnet with a validation split): the epoch whose weights the
  // network holds, and its validation accuracy.
  int64_t best_epoch = 0;
  double validation_accuracy = -1;
};

// Trains `net` in place. Arguments are assumed valid. on_epoch may throw to cancel; stop_after,
// called after it, ends the training when it returns true (schedule early-stop).
NetworkLoopResult train_network(Network& net, const ImageTrainingData& data, const NetworkLoopSettings& settings,
                                const std::function<void(const NetworkEpoch&)>& on_epoch = {},
                                const std::function<bool(int64_t)>& stop_after = {});

// Rows of `images` (standardised, [m, C, H, W]) whose largest logit is their label's, in blocks of
// `block_rows` through embed_inference and classify, without autograd.
int64_t count_correct(const Network& net, const at::Tensor& images, const at::Tensor& labels,
                      int64_t block_rows = 1024);

struct TrainedNetwork {
  Network net;
  NetworkLoopResult loop;
};

// The training half of train_convnet_and_test (same checks, draws and result); also what
// nn/embed.h reads the feature layer of.
// `validation` is the early-stop split (the settings' schedule must then be early-stop); without
// it the schedule's epochs (the cap, under early-stop) or steps are trained.
TrainedNetwork train_convnet(const LabelledView& train, int64_t num_classes, const TrainSettings& settings,
                             c10::Device device, const LabelledView* validation = nullptr);

// Rows of a row-major [n, C*H*W] host matrix as [n, C, H, W] images on `device`, standardised with
// the settings' channel statistics (when given), as training and testing see them.
at::Tensor standardised_images(const float* rows, int64_t n, const InputShape& shape, const TrainSettings& settings,
                               c10::Device device);

// train_and_test for model "convnet": validates what only the ConvNet needs (image shape,
// statistics, augment), standardises, drops rows of weight 0, draws the network from
// Rng(seed).fork(0), the batch order from fork(1) and the augmentations from fork(2), trains and
// tests. The common checks (labels, dims, weights, epochs, batch, lr) are the caller's. Settings are
// resolved; under schedule early-stop `validation` is the held-out split (weights ignored).
TrainOutcome train_convnet_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                                    const TrainSettings& settings, c10::Device device,
                                    const LabelledView* validation = nullptr);

// Throws subset::Error unless the settings' image shape fits rows of `dim` features and the
// statistics have one entry per channel (or none).
InputShape checked_input_shape(const TrainSettings& settings, int64_t dim);

}  // namespace subset::nn::internal
