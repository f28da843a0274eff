#pragma once
// The pieces of schedule early-stop (docs/methods/evaluate.md, "Training schedule") shared by the
// classifier loop (train_loop.h) and the ConvNet loop (network_training.h): the stratified
// validation split of a training set and the record of the best epoch with its weights.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "libsubset/nn/trainer.h"

namespace subset::nn::internal {

// The stream of Rng(seed).fork() that draws the validation split (0, 1 and 2 are the initial
// weights, the batch order and the augmentations).
constexpr uint64_t kValidationStream = 3;

// The epochs a loop runs for `rows` training rows under resolved settings: `epochs` (under
// early-stop the cap); under steps ceil(steps / ceil(rows / batch)), the last one cut at the budget.
int64_t planned_epochs(const TrainSettings& resolved, int64_t rows);

struct ValidationSplit {
  std::vector<int64_t> fit;         // rows trained on, ascending
  std::vector<int64_t> validation;  // rows held out, ascending
};

// Per class c with n_c rows: round(fraction * n_c) rows held out (halves away from zero), at least
// one and at most n_c - 1, so a class of one row is trained on and never validated. Which rows:
// the first of a Fisher-Yates shuffle of the class's rows (in row order) by subset::Rng(seed), the
// classes taken in label order from one generator. Throws subset::Error naming "validation" when
// no class has two rows (nothing can be held out without losing a class).
ValidationSplit stratified_split(const int64_t* labels, int64_t n, int64_t num_classes, double fraction,
                                 uint64_t seed);

// The best epoch so far and its weights. An epoch improves when its validation accuracy is higher
// than every earlier one's (the first always does).
class BestEpoch {
 public:
  // `params` are the live weights (shared tensors): snapshots copy them, restore() writes back.
  BestEpoch(std::vector<at::Tensor> params, int64_t patience);
  // Records `epoch`'s accuracy; true once `patience` epochs in a row have not improved.
  bool record(int64_t epoch, double accuracy);
  // Puts the best epoch's weights back into the live tensors.
  void restore();

  int64_t best_epoch() const { return best_epoch_; }
  double best_accuracy() const { return best_accuracy_; }
  int64_t epochs() const { return epochs_; }

 private:
  std::vector<at::Tensor> params_;
  std::vector<at::Tensor> best_;
  int64_t patience_;
  int64_t best_epoch_ = 0;
  int64_t epochs_ = 0;
  double best_accuracy_ = -1;
};

}  // namespace subset::nn::internal
