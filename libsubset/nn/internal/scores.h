#pragma once
// The per-row score formulas of nn/scores.h, as functions of the proxy's outputs, so that they can
// be checked against hand computation. All take and return tensors on any device; logits [b, C]
// float32, labels [b] int64. Higher = harder / more uncertain, for every one.
#include <ATen/core/Tensor.h>

#include "libsubset/nn/internal/classifier.h"

namespace subset::nn::internal {

// -log softmax(z)_y.
at::Tensor loss_scores(const at::Tensor& logits, const at::Tensor& labels);
// ||softmax(z) - onehot(y)||_2 (EL2N, Paul et al. 2021).
at::Tensor el2n_scores(const at::Tensor& logits, const at::Tensor& labels);
// The L2 norm of the gradient of the cross-entropy with respect to the last layer's weights W
// [C, h] and bias [C], in closed form: dL/dW = (p - onehot(y)) h^T and dL/db = p - onehot(y), so
// the norm is ||p - onehot(y)||_2 * sqrt(||h||_2^2 + 1). `hidden` [b, h]: the last layer's input.
at::Tensor grand_scores(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& hidden);
// -sum_c p_c ln p_c (nats).
at::Tensor entropy_scores(const at::Tensor& logits);
// 1 - (p_top1 - p_top2); 0 with a single class.
at::Tensor margin_scores(const at::Tensor& logits);
// 1 - p_top1.
at::Tensor least_confidence_scores(const at::Tensor& logits);

// Forgetting counts from correct [E, n] (bool: row i predicted right at epoch e): the number of e
// with correct[e][i] and not correct[e + 1][i]; E for a row never correct. int64 [n].
at::Tensor forgetting_counts(const at::Tensor& correct);

// The input of the model's last layer for rows x (Classifier::hidden_features): the last hidden
// ReLU's output for the MLP, x itself for the linear model.
at::Tensor last_layer_input(const Classifier& model, const at::Tensor& x);
// The logits from last_layer_input's output (Classifier::forward = this after that).
at::Tensor last_layer(const Classifier& model, const at::Tensor& hidden);

}  // namespace subset::nn::internal
