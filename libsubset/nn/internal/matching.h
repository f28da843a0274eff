#pragma once
// The matching losses of dataset condensation (docs/methods/condensation.md), differentiable in
// the synthetic images; condense.cpp drives them, the tests check them against finite differences.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "libsubset/nn/internal/network.h"

namespace subset::nn::internal {

// DM: the mean embedding of each class's real images, [classes, feature_dim], without autograd;
// through `workspace` when given (network.h), so that the embeddings allocate nothing after the
// first iteration.
at::Tensor real_class_means(const Network& net, const std::vector<at::Tensor>& real_per_class,
                            EmbedWorkspace* workspace = nullptr);

// DM: sum over classes of ||mean embedding of the class's synthetic images - real_means[c]||^2.
// synthetic: [classes * ipc, ...], class-major. Instance norm keeps images independent, so one
// forward pass over all classes gives each class's embeddings exactly as a pass per class would.
at::Tensor distribution_matching_loss(const Network& net, const at::Tensor& real_means, const at::Tensor& synthetic,
                                      int64_t ipc);

// DC's 'ours' distance between two lists of layer gradients: per layer, reshaped to
// (outputs, -1), the sum over outputs of 1 - cos(synthetic, real) (1e-6 added to the norms'
// product); vectors (biases, norm parameters) count 0, as in the reference.
at::Tensor gradient_distance(const std::vector<at::Tensor>& synthetic, const std::vector<at::Tensor>& real);

// DC, one class: the gradient distance between the network's cross-entropy gradients on the
// real batch and on the synthetic one, differentiable in `synthetic` (second-order autograd).
at::Tensor gradient_matching_loss(const Network& net, const at::Tensor& real, const at::Tensor& synthetic,
                                  int64_t label);

}  // namespace subset::nn::internal
