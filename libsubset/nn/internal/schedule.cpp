#include "libsubset/nn/internal/schedule.h"

#include <ATen/core/grad_mode.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"

namespace subset::nn::internal {

int64_t planned_epochs(const TrainSettings& resolved, int64_t rows) {
  if (resolved.schedule != "steps") return resolved.epochs.value();
  const int64_t batches = (rows + std::min(resolved.batch, rows) - 1) / std::min(resolved.batch, rows);
  return (resolved.steps.value() + batches - 1) / batches;
}

ValidationSplit stratified_split(const int64_t* labels, int64_t n, int64_t num_classes, double fraction,
                                 uint64_t seed) {
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (int64_t i = 0; i < n; ++i) by_class[static_cast<size_t>(labels[i])].push_back(i);
  Rng rng(seed);
  ValidationSplit split;
  for (auto& rows : by_class) {
    const auto count = static_cast<int64_t>(rows.size());
    if (count < 2) {
      split.fit.insert(split.fit.end(), rows.begin(), rows.end());
      continue;
    }
    const auto held = std::clamp<int64_t>(static_cast<int64_t>(std::round(fraction * static_cast<double>(count))),
                                          1, count - 1);
    for (int64_t i = count - 1; i > 0; --i)
      std::swap(rows[static_cast<size_t>(i)], rows[rng.uniform_index(static_cast<uint64_t>(i) + 1)]);
    split.validation.insert(split.validation.end(), rows.begin(), rows.begin() + held);
    split.fit.insert(split.fit.end(), rows.begin() + held, rows.end());
  }
  SUBSET_CHECK_PARAM(!split.validation.empty(), "validation",
                     "schedule early-stop needs a validation split, and no class of the " << n
                         << " training rows has two rows to hold one out: use schedule epochs or steps");
  std::sort(split.fit.begin(), split.fit.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

BestEpoch::BestEpoch(std::vector<at::Tensor> params, int64_t patience)
    : params_(std::move(params)), patience_(patience) {}

bool BestEpoch::record(int64_t epoch, double accuracy) {
  epochs_ = epoch;
  if (accuracy > best_accuracy_) {
    best_accuracy_ = accuracy;
    best_epoch_ = epoch;
    at::NoGradGuard no_grad;
    if (best_.empty()) {
      for (const auto& p : params_) best_.push_back(p.detach().clone());
    } else {
      for (size_t i = 0; i < params_.size(); ++i) best_[i].copy_(params_[i].detach());
    }
  }
  return epoch - best_epoch_ >= patience_;
}

void BestEpoch::restore() {
  if (best_.empty()) return;
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) params_[i].detach().copy_(best_[i]);
}

}  // namespace subset::nn::internal
