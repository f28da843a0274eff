#include "libsubset/nn/internal/scores.h"

#include <ATen/ops/one_hot.h>
#include <ATen/ops/zeros.h>

namespace subset::nn::internal {
namespace {

// softmax(z) - onehot(y), [b, C].
at::Tensor residual(const at::Tensor& logits, const at::Tensor& labels) {
  const at::Tensor p = logits.softmax(1);
  return p.sub(at::one_hot(labels, logits.size(1)).to(p.scalar_type()));
}

}  // namespace

at::Tensor loss_scores(const at::Tensor& logits, const at::Tensor& labels) {
  return logits.log_softmax(1).gather(1, labels.unsqueeze(1)).squeeze(1).neg();
}

at::Tensor el2n_scores(const at::Tensor& logits, const at::Tensor& labels) {
  return residual(logits, labels).square().sum(1).sqrt();
}

at::Tensor grand_scores(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& hidden) {
  return el2n_scores(logits, labels).mul(hidden.square().sum(1).add(1.0).sqrt());
}

at::Tensor entropy_scores(const at::Tensor& logits) {
  const at::Tensor log_p = logits.log_softmax(1);
  return log_p.exp().mul(log_p).sum(1).neg();
}

at::Tensor margin_scores(const at::Tensor& logits) {
  const at::Tensor p = logits.softmax(1);
  if (p.size(1) < 2) return at::zeros({p.size(0)}, p.options());  // no runner-up: margin 1, score 0
  const at::Tensor top = std::get<0>(p.topk(2, 1));
  return top.select(1, 1).sub(top.select(1, 0)).add(1.0);
}

at::Tensor least_confidence_scores(const at::Tensor& logits) { return logits.softmax(1).amax(1).neg().add(1.0); }

at::Tensor forgetting_counts(const at::Tensor& correct) {
  const int64_t epochs = correct.size(0);
  at::Tensor events = epochs >= 2 ? correct.narrow(0, 0, epochs - 1)
                                        .logical_and(correct.narrow(0, 1, epochs - 1).logical_not())
                                        .sum(0, false, at::kLong)
                                  : at::zeros({correct.size(1)}, correct.options().dtype(at::kLong));
  return events.masked_fill_(correct.any(0).logical_not(), epochs);
}

at::Tensor last_layer_input(const Classifier& model, const at::Tensor& x) { return model.hidden_features(x); }

at::Tensor last_layer(const Classifier& model, const at::Tensor& hidden) { return model.output_layer(hidden); }

}  // namespace subset::nn::internal
