#pragma once
// The proxy classifier of active learning (`subset al query`, `al simulate`): an MLP trained on
// the labelled rows only, by train_and_embed (nn/embed.h: the trainer's MLP under schedule epochs),
// then applied to candidate rows block by block, so that the caller decides how many rows are in
// memory at once. This header includes no libtorch.
//
// MC dropout (bald): the proxy is trained without dropout (the trainer has none); each of the T
// stochastic passes drops every penultimate activation with probability `dropout` and scales the
// kept ones by 1 / (1 - dropout) (inverted dropout) before the last layer. This is dropout at
// inference only, a cheap stand-in for a network trained with dropout (docs/active-learning.md).
#include <cstdint>
#include <memory>

#include "libsubset/core/model_state.h"
#include "libsubset/nn/trainer.h"

namespace subset::nn {

class AlProxy {
 public:
  // Trains settings.model ("mlp"; schedule "epochs") on `labelled` (test: none). Throws what
  // train_and_embed throws.
  static AlProxy train(const LabelledView& labelled, int64_t num_classes, const TrainSettings& settings);
  AlProxy(AlProxy&&) noexcept;
  AlProxy& operator=(AlProxy&&) noexcept;
  ~AlProxy();

  int64_t input_dim() const;
  int64_t embedding_dim() const;  // the hidden width
  int64_t classes() const;
  const TrainOutcome& training() const;
  const ModelState& model() const;  // w1 [hidden, dim], b1, w2 [classes, hidden], b2

  // For n rows x (n x input_dim, row-major): softmax probabilities into probs (n x classes) and,
  // when `embeddings` is not null, the penultimate activations relu(x W1^T + b1) (n x hidden).
  void predict(const float* x, int64_t n, float* probs, float* embeddings = nullptr) const;
  // `passes` MC-dropout passes (see above): probs[t][i][k] (passes x n x classes). The masks come
  // from Rng(seed): pass t of row i depends on seed, t and the row's place in this call only.
  void predict_dropout(const float* x, int64_t n, int64_t passes, double dropout, uint64_t seed, float* probs) const;

 private:
  struct Impl;
  explicit AlProxy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace subset::nn
