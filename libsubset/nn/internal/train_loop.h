#pragma once
// The training loop of the proxy classifiers (docs/methods/evaluate.md), shared by the trainer
// (trainer.h), the importance scores (per-example losses and logits through on_batch, full passes
// through forward_in_blocks) and whatever else trains a Classifier.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "libsubset/core/communicator.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/trainer.h"

namespace subset::nn::internal {

// The training rows, already on the model's device.
struct TrainingTensors {
  at::Tensor features;  // [n, dim] float32, contiguous
  at::Tensor labels;    // [n] int64 in [0, classes)
  at::Tensor weights;   // [n] float32 >= 0, or undefined for all ones
  // The same weights on the host (n floats), required when `weights` is defined: batch weight
  // sums are taken there so that no step waits on the device.
  const float* host_weights = nullptr;
};

// The caller's rows as a tensor on `device`: borrowed (no copy) on the CPU, copied once otherwise.
at::Tensor borrow(const void* data, at::IntArrayRef sizes, at::ScalarType type, c10::Device device);
// A view's features, labels and weights (when it has them) as the loop takes them (borrow).
TrainingTensors training_tensors(const LabelledView& view, c10::Device device);

struct LoopSettings {
  int64_t epochs = 5;
  int64_t batch = 256;
  double learning_rate = 1e-3;  // Adam, betas (0.9, 0.999), eps 1e-8
  uint64_t seed = 0;            // batch order and dropout; the initial weights are make_classifier's
  // > 0: train until this many optimizer steps, whatever `epochs` says, cutting the last epoch
  // (schedule steps).
  int64_t max_steps = 0;
  double weight_decay = 0;      // Adam's L2 term (torch.optim.Adam's weight_decay)
  double dropout = 0;           // MLP: after each hidden ReLU, in training steps only
  // Data-parallel on several ranks (share.distributed()): the training rows are this rank's share
  // of share.total_rows. Every rank draws the permutation of all rows, so the batches are those of
  // one process; a rank runs the step on its rows of the batch (none, some or all), the gradients
  // are summed over the ranks in rank order, and every rank takes the same Adam step, so the models
  // stay identical. One process's sums run in another order: the same model within rounding.
  // Unweighted, without dropout (the importance scores' proxy).
  RowShare share;
};

// What on_batch sees after each step: the batch as the step's forward pass saw it, before its update.
// Data-parallel: this rank's rows of the batch (not called when it has none).
struct BatchInfo {
  int64_t epoch;             // 1-based
  const at::Tensor& rows;    // [b] int64 indices into the (rank's) training rows, on the device
  const at::Tensor& logits;  // [b, classes], detached
  const at::Tensor& losses;  // [b] per-example cross-entropy (unweighted), detached
};

// Both hooks run with libtorch's full thread count (the loop itself runs most kernels on one
// thread, see intra_op.h).
struct LoopHooks {
  // After each step; the per-example losses are computed only when this is set. Not called for a
  // batch whose weights are all zero (it is skipped without a forward pass).
  std::function<void(const BatchInfo&)> on_batch;
  // After each epoch with (epoch, 1-based, and the epoch's mean weighted loss); may throw to cancel.
  std::function<void(int64_t epoch, double mean_loss)> on_epoch;
  // After on_epoch; true ends the training there (schedule early-stop).
  std::function<bool(int64_t epoch)> stop_after;
};

struct LoopResult {
  double final_loss = 0;  // sum(w * l) / sum(w) over the last epoch's rows, l taken as seen
  int64_t steps = 0;      // optimizer steps taken
  int64_t epochs = 0;     // epochs begun (the last one cut short under max_steps)
};

// Trains `model` in place with Adam on mini-batches: each epoch visits the rows in a fresh
// permutation drawn from subset::Rng(settings.seed) (Fisher-Yates; dropout's masks from its
// fork(1), so that the order does not depend on them), `batch` rows per step, the
// last step of an epoch taking the remainder. With max_steps the epoch in which the budget runs out
// ends at its last step, and its loss is over the rows it visited. Arguments are assumed valid (train_and_test checks
// them).
LoopResult train_classifier(Classifier& model, const TrainingTensors& data, const LoopSettings& settings,
                            const LoopHooks& hooks = {});

struct BatchLoss {
  at::Tensor loss;         // sum(w * l) / weight_sum: what is minimised
  at::Tensor total;        // sum(w * l)
  at::Tensor per_example;  // l, [b]; defined only when asked for
};

// Cross-entropy of each row's logits against its label, weighted: l_i = -log softmax(z_i)[y_i],
// loss = sum_i w_i l_i / weight_sum. `weights` undefined means all ones; `weight_sum` must be
// sum(w) (b without weights), passed in so that it can come from the host.
BatchLoss weighted_cross_entropy(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& weights,
                                 double weight_sum, bool keep_per_example = false);

// Runs the model over `features` in blocks of `block_rows` rows without autograd:
// fn(first_row, logits of the block). Like the hooks above, fn runs with libtorch's full thread
// count.
void forward_in_blocks(const Classifier& model, const at::Tensor& features, int64_t block_rows,
                       const std::function<void(int64_t, const at::Tensor&)>& fn);

// Rows whose argmax logit equals the label.
int64_t count_correct(const Classifier& model, const at::Tensor& features, const at::Tensor& labels,
                      int64_t block_rows = 4096);

}  // namespace subset::nn::internal
