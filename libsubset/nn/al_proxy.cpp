#include "libsubset/nn/al_proxy.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/mul.h>
#include <ATen/ops/softmax.h>

#include <cstring>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/embed.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/linear.h"
#include "libsubset/nn/torch_threads.h"

namespace subset::nn {

struct AlProxy::Impl {
  ModelState model;
  TrainOutcome training;
  int64_t dim = 0, hidden = 0, classes = 0;
  c10::Device device = c10::Device(c10::kCPU);
  at::Tensor w1, b1, w2, b2;  // on `device`

  at::Tensor tensor(const char* name, const std::vector<int64_t>& shape) const {
    const FloatArray& a = model.array(name, shape, "proxy");
    return at::from_blob(const_cast<float*>(a.values.data()), shape, at::TensorOptions().dtype(at::kFloat))
        .to(device, at::kFloat, false, true);
  }
  at::Tensor input(const float* x, int64_t n) const {
    return at::from_blob(const_cast<float*>(x), {n, dim}, at::TensorOptions().dtype(at::kFloat)).to(device);
  }
  at::Tensor hidden_of(const at::Tensor& x) const { return internal::linear(x, w1, b1).relu_(); }
};

namespace {

void copy_out(const at::Tensor& t, float* out) {
  const at::Tensor h = t.to(at::kCPU).contiguous();
  std::memcpy(out, h.data_ptr<float>(), static_cast<size_t>(h.numel()) * sizeof(float));
}

}  // namespace

AlProxy AlProxy::train(const LabelledView& labelled, int64_t num_classes, const TrainSettings& settings) {
  SUBSET_CHECK_PARAM(settings.model == "mlp", "model",
                     "the active-learning proxy is an mlp (its hidden layer gives the embeddings), not "
                         << settings.model);
  EmbedResult trained = train_and_embed(labelled, LabelledView{}, num_classes, settings);
  auto impl = std::make_unique<Impl>();
  impl->dim = labelled.dim;
  impl->hidden = trained.dim;
  impl->classes = num_classes;
  impl->training = trained.training;
  impl->model = std::move(trained.model);
  impl->device = internal::parse_device(settings.device);
  impl->w1 = impl->tensor("w1", {impl->hidden, impl->dim});
  impl->b1 = impl->tensor("b1", {impl->hidden});
  impl->w2 = impl->tensor("w2", {impl->classes, impl->hidden});
  impl->b2 = impl->tensor("b2", {impl->classes});
  return AlProxy(std::move(impl));
}

AlProxy::AlProxy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AlProxy::AlProxy(AlProxy&&) noexcept = default;
AlProxy& AlProxy::operator=(AlProxy&&) noexcept = default;
AlProxy::~AlProxy() = default;

int64_t AlProxy::input_dim() const { return impl_->dim; }
int64_t AlProxy::embedding_dim() const { return impl_->hidden; }
int64_t AlProxy::classes() const { return impl_->classes; }
const TrainOutcome& AlProxy::training() const { return impl_->training; }
const ModelState& AlProxy::model() const { return impl_->model; }

void AlProxy::predict(const float* x, int64_t n, float* probs, float* embeddings) const {
  if (n == 0) return;
  enable_torch_thread_control();
  at::NoGradGuard no_grad;
  const at::Tensor h = impl_->hidden_of(impl_->input(x, n));
  copy_out(at::softmax(internal::linear(h, impl_->w2, impl_->b2), 1), probs);
  if (embeddings) copy_out(h, embeddings);
}

void AlProxy::predict_dropout(const float* x, int64_t n, int64_t passes, double dropout, uint64_t seed,
                              float* probs) const {
  SUBSET_CHECK_PARAM(dropout >= 0 && dropout < 1, "dropout", "dropout must be in [0, 1), got " << dropout);
  if (n == 0) return;
  enable_torch_thread_control();
  at::NoGradGuard no_grad;
  const at::Tensor h = impl_->hidden_of(impl_->input(x, n));
  const int64_t hidden = impl_->hidden;
  std::vector<float> mask(static_cast<size_t>(n * hidden));
  const float keep = static_cast<float>(1.0 / (1.0 - dropout));
  const Rng root(seed);
  for (int64_t t = 0; t < passes; ++t) {
    Rng rng = root.fork(static_cast<uint64_t>(t));
    for (float& m : mask) m = rng.uniform01() < dropout ? 0.0f : keep;
    const at::Tensor masked = at::mul(h, at::from_blob(mask.data(), {n, hidden}, at::TensorOptions().dtype(at::kFloat))
                                      .to(impl_->device));
    copy_out(at::softmax(internal::linear(masked.contiguous(), impl_->w2, impl_->b2), 1), probs + t * n * impl_->classes);
  }
}

}  // namespace subset::nn
