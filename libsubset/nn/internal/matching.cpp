#include "libsubset/nn/internal/matching.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

namespace subset::nn::internal {
namespace {

at::Tensor cross_entropy(const at::Tensor& logits, int64_t label) {
  const at::Tensor labels = at::full({logits.size(0)}, label, logits.options().dtype(at::kLong));
  return at::nll_loss(at::log_softmax(logits, 1), labels);
}

}  // namespace

at::Tensor real_class_means(const Network& net, const std::vector<at::Tensor>& real_per_class,
                            EmbedWorkspace* workspace) {
  std::vector<at::Tensor> means;
  for (const auto& real : real_per_class) {
    means.push_back(workspace ? net.embed_inference(real, *workspace).mean(0) : net.embed_inference(real).mean(0));
  }
  return at::stack(means);
}

at::Tensor distribution_matching_loss(const Network& net, const at::Tensor& real_means, const at::Tensor& synthetic,
                                      int64_t ipc) {
  const int64_t classes = real_means.size(0);
  const at::Tensor synthetic_means = net.embed(synthetic).view({classes, ipc, -1}).mean(1);
  return (real_means - synthetic_means).pow(2).sum();
}

at::Tensor gradient_distance(const std::vector<at::Tensor>& synthetic, const std::vector<at::Tensor>& real) {
  at::Tensor total = at::zeros({}, synthetic.front().options());
  for (size_t l = 0; l < synthetic.size(); ++l) {
    if (synthetic[l].dim() == 1) continue;
    const at::Tensor s = synthetic[l].reshape({synthetic[l].size(0), -1});
    const at::Tensor r = real[l].reshape({real[l].size(0), -1});
    const at::Tensor cosine = (s * r).sum(-1) / (s.norm(2, {-1}) * r.norm(2, {-1}) + 1e-6);
    total = total + (1 - cosine).sum();
  }
  return total;
}

at::Tensor gradient_matching_loss(const Network& net, const at::Tensor& real, const at::Tensor& synthetic,
                                  int64_t label) {
  std::vector<at::Tensor> real_grads = torch::autograd::grad({cross_entropy(net.forward(real), label)}, net.params);
  for (auto& g : real_grads) g = g.detach();
  const std::vector<at::Tensor> synthetic_grads = torch::autograd::grad(
      {cross_entropy(net.forward(synthetic), label)}, net.params, {}, /*retain_graph=*/true, /*create_graph=*/true);
  return gradient_distance(synthetic_grads, real_grads);
}

}  // namespace subset::nn::internal
