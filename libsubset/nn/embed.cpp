#include "libsubset/nn/embed.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/from_blob.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/linear.h"
#include "libsubset/nn/internal/network.h"
#include "libsubset/nn/internal/network_training.h"
#include "libsubset/nn/internal/train_loop.h"
#include "libsubset/nn/torch_threads.h"

namespace subset::nn {
namespace {

constexpr int64_t kBlockRows = 1024;

void check_rows(const LabelledView& v, int64_t num_classes, const char* split, bool labels_required) {
  SUBSET_CHECK(v.n == 0 || v.features, split, "features missing");
  SUBSET_CHECK(!labels_required || v.labels, split, "labels missing");
  if (!v.labels) return;
  for (int64_t i = 0; i < v.n; ++i)
    SUBSET_CHECK(v.labels[i] >= 0 && v.labels[i] < num_classes, split,
                 "label " << v.labels[i] << " of row " << i << " is outside [0, " << num_classes << ")");
}

// Runs `features_of` over the rows of `x` in blocks and copies each block's features into `out`
// (rows x dim floats): the result is on the host, in row order.
template <typename Fn>
void embed_blocks(const at::Tensor& x, int64_t dim, std::vector<float>& out, Fn&& features_of) {
  at::NoGradGuard no_grad;
  const int64_t n = x.size(0);
  out.assign(static_cast<size_t>(n * dim), 0.0f);
  for (int64_t begin = 0; begin < n; begin += kBlockRows) {
    const int64_t b = std::min(kBlockRows, n - begin);
    const at::Tensor f = features_of(x.narrow(0, begin, b)).to(at::kCPU).contiguous();
    std::memcpy(out.data() + begin * dim, f.data_ptr<float>(), static_cast<size_t>(b * dim) * sizeof(float));
  }
}

FloatArray host_array(const at::Tensor& t) {
  const at::Tensor h = t.detach().to(at::kCPU).contiguous();
  FloatArray a;
  a.shape.assign(h.sizes().begin(), h.sizes().end());
  a.values.assign(h.data_ptr<float>(), h.data_ptr<float>() + h.numel());
  return a;
}

// The test rows `x` (as the model takes them) through `features` into out.test, and the trained
// model's accuracy on them.
template <class Model, class Features>
void embed_test_split(const Model& model, const at::Tensor& x, const LabelledView& test, c10::Device device,
                      const Features& features, EmbedResult& out) {
  embed_blocks(x, out.dim, out.test, features);
  if (!test.labels) return;
  const at::Tensor labels = internal::borrow(test.labels, {test.n}, at::kLong, device);
  out.training.test_accuracy =
      static_cast<double>(internal::count_correct(model, x, labels)) / static_cast<double>(test.n);
}

EmbedResult embed_mlp(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                      const TrainSettings& settings, c10::Device device) {
  // The trainer's draws: the initial weights from fork(0), the batch order from fork(1).
  const Rng root(settings.seed);
  internal::Classifier model = internal::make_classifier(internal::ModelKind::Mlp, train.dim, settings.hidden,
                                                         num_classes, root.fork(0).seed(), device);
  const internal::TrainingTensors data = internal::training_tensors(train, device);
  internal::LoopSettings loop;
  loop.epochs = *settings.epochs;
  loop.batch = settings.batch;
  loop.learning_rate = *settings.learning_rate;
  loop.seed = root.fork(1).seed();
  internal::LoopHooks hooks;
  if (settings.on_epoch)
    hooks.on_epoch = [&](int64_t epoch, double loss) { settings.on_epoch(epoch, *settings.epochs, loss); };
  const internal::LoopResult trained = internal::train_classifier(model, data, loop, hooks);

  EmbedResult out;
  out.dim = settings.hidden;
  out.training.final_loss = trained.final_loss;
  out.training.steps = trained.steps;
  const auto hidden = [&](const at::Tensor& x) { return internal::linear(x, model.params[0], model.params[1]).relu_(); };
  embed_blocks(data.features, out.dim, out.train, hidden);
  if (test.n > 0)
    embed_test_split(model, internal::borrow(test.features, {test.n, test.dim}, at::kFloat, device), test, device, hidden, out);
  out.model.method = "mlp";
  const char* names[] = {"w1", "b1", "w2", "b2"};
  for (size_t i = 0; i < model.params.size(); ++i) out.model.arrays[names[i]] = host_array(model.params[i]);
  return out;
}

EmbedResult embed_convnet(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                          const TrainSettings& settings, c10::Device device) {
  const internal::TrainedNetwork trained = internal::train_convnet(train, num_classes, settings, device);
  const internal::Network& net = trained.net;
  EmbedResult out;
  out.dim = net.feature_dim();
  out.training.final_loss = trained.loop.final_loss;
  out.training.steps = trained.loop.steps;
  internal::EmbedWorkspace workspace;
  const auto features = [&](const at::Tensor& x) { return net.embed_inference(x, workspace); };
  embed_blocks(internal::standardised_images(train.features, train.n, net.input, settings, device), out.dim,
               out.train, features);
  if (test.n > 0)
    embed_test_split(net, internal::standardised_images(test.features, test.n, net.input, settings, device), test, device,
                     features, out);
  out.model.method = "convnet";
  for (int64_t d = 0; d < net.depth; ++d) {
    const std::string s = std::to_string(d);
    const char* names[] = {"conv_w", "conv_b", "norm_w", "norm_b"};
    for (size_t k = 0; k < 4; ++k) out.model.arrays[names[k] + s] = host_array(net.params[static_cast<size_t>(4 * d) + k]);
  }
  out.model.arrays["fc_w"] = host_array(net.params[net.params.size() - 2]);
  out.model.arrays["fc_b"] = host_array(net.params.back());
  return out;
}

}  // namespace

EmbedResult train_and_embed(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& given) {
  enable_torch_thread_control();
  SUBSET_CHECK_PARAM(given.model == "mlp" || given.model == "convnet", "model",
                     "embeddings come from a hidden layer: mlp or convnet, not " << given.model);
  // A fixed, short training: the embedding of every row must come from the same network, and
  // early-stop's held-out rows would be trained on by no one.
  SUBSET_CHECK_PARAM(given.schedule == "epochs", "schedule",
                     "embeddings train a fixed number of epochs (schedule epochs), not " << given.schedule);
  check_train_settings(given);
  const TrainSettings settings = resolve_defaults(given);
  SUBSET_CHECK(num_classes >= 1, "train", "number of classes must be at least 1, got " << num_classes);
  SUBSET_CHECK(train.n > 0, "train", "the train set has no rows");
  SUBSET_CHECK(train.dim > 0, "train", "rows have no features (dim = " << train.dim << ")");
  SUBSET_CHECK(test.n == 0 || test.dim == train.dim, "test",
               "test rows have " << test.dim << " features, training rows " << train.dim);
  check_rows(train, num_classes, "train", true);
  check_rows(test, num_classes, "test", false);
  const c10::Device device = internal::parse_device(settings.device);
  EmbedResult out = settings.model == "convnet" ? embed_convnet(train, test, num_classes, settings, device)
                                                : embed_mlp(train, test, num_classes, settings, device);
  out.model.input_dim = train.dim;
  out.model.output_dim = out.dim;
  return out;
}

}  // namespace subset::nn
