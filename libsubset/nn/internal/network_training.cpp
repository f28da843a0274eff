#include "libsubset/nn/internal/network_training.h"

// Per-operator headers rather than <ATen/ATen.h>: a few seconds less per file.
#include <ATen/core/grad_mode.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/dsa.h"
#include "libsubset/nn/internal/schedule.h"
#include "libsubset/nn/internal/train_loop.h"

namespace subset::nn::internal {
namespace {

// Streams of Rng(seed).fork(): the initial network, the batch order, the augmentations.
constexpr uint64_t kInitStream = 0;
constexpr uint64_t kOrderStream = 1;
constexpr uint64_t kAugmentStream = 2;

// Rows `keep` (all when empty) of a row-major [n, C*H*W] host matrix as standardised images
// [rows, C, H, W] on `device`: (x - mean[c]) / stddev[c], or as they are without statistics.
at::Tensor standardised_images(const float* rows, int64_t n, const InputShape& shape, const std::vector<int64_t>& keep,
                               const TrainSettings& settings, c10::Device device) {
  at::Tensor x = at::from_blob(const_cast<float*>(rows), {n, shape.channels, shape.height, shape.width},
                               at::TensorOptions().dtype(at::kFloat));
  if (!keep.empty()) x = x.index_select(0, at::tensor(keep, at::TensorOptions().dtype(at::kLong)));
  x = x.to(device);
  if (settings.channel_mean.empty()) return x.contiguous();
  const auto opts = at::TensorOptions().dtype(at::kFloat);
  const at::Tensor mean = at::tensor(settings.channel_mean, opts).view({1, shape.channels, 1, 1}).to(device);
  const at::Tensor stddev = at::tensor(settings.channel_stddev, opts).view({1, shape.channels, 1, 1}).to(device);
  return x.sub(mean).div(stddev).contiguous();
}

at::Tensor host_longs(const int64_t* values, int64_t n, const std::vector<int64_t>& keep, c10::Device device) {
  at::Tensor t = at::from_blob(const_cast<int64_t*>(values), {n}, at::TensorOptions().dtype(at::kLong));
  if (!keep.empty()) t = t.index_select(0, at::tensor(keep, at::TensorOptions().dtype(at::kLong)));
  return t.to(device).contiguous();
}

}  // namespace

Sgd::Sgd(std::vector<at::Tensor> params, double learning_rate, double momentum, double weight_decay)
    : params_(std::move(params)), buffers_(params_.size()), lr_(learning_rate), momentum_(momentum),
      weight_decay_(weight_decay) {}

void Sgd::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

void Sgd::step() {
  at::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    const at::Tensor& grad = p.grad();
    if (!grad.defined()) continue;
    at::Tensor d = weight_decay_ != 0 ? grad.add(p, weight_decay_) : grad;
    at::Tensor& buf = buffers_[i];
    if (momentum_ != 0) {
      if (!buf.defined()) buf = d.clone();
      else buf.mul_(momentum_).add_(d);
      d = buf;
    }
    p.add_(d, -lr_);
  }
}

int64_t decay_after_epoch(int64_t epochs) { return (epochs + 1) / 2; }

double scheduled_learning_rate(double base, int64_t epoch, int64_t epochs) {
  return epoch <= decay_after_epoch(epochs) ? base : base * 0.1;
}

NetworkLoopResult train_network(Network& net, const ImageTrainingData& data, const NetworkLoopSettings& s,
                                const std::function<void(const NetworkEpoch&)>& on_epoch,
                                const std::function<bool(int64_t)>& stop_after) {
  at::AutoGradMode grad_mode(true);
  const c10::Device device = net.device();
  const int64_t n = data.images.size(0);
  const int64_t batch = std::min(s.batch, n);
  const bool weighted = data.weights.defined();
  const std::vector<float>& host_w = data.host_weights;
  const double total_weight =
      weighted ? std::accumulate(host_w.begin(), host_w.end(), 0.0, [](double a, float w) { return a + w; })
               : static_cast<double>(n);

  Rng order_rng(s.order_seed);
  Rng augment_rng(s.augment_seed);
  std::vector<int64_t> order(static_cast<size_t>(n));
  const at::Tensor order_host = at::from_blob(order.data(), {n}, at::TensorOptions().dtype(at::kLong));
  Sgd sgd(net.params, s.learning_rate, s.momentum, s.weight_decay);

  NetworkLoopResult result;
  const bool budget = s.max_steps > 0;
  for (int64_t epoch = 1; budget ? result.steps < s.max_steps : epoch <= s.epochs; ++epoch) {
    // The reference builds a new optimiser at the decay: the momentum buffers start again.
    if (epoch == decay_after_epoch(s.epochs) + 1)
      sgd = Sgd(net.params, scheduled_learning_rate(s.learning_rate, epoch, s.epochs), s.momentum, s.weight_decay);
    std::iota(order.begin(), order.end(), int64_t{0});
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[static_cast<size_t>(i)], order[order_rng.uniform_index(static_cast<uint64_t>(i) + 1)]);
    const at::Tensor epoch_rows = device.is_cpu() ? order_host : order_host.to(device);
    at::Tensor epoch_total = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
    double visited_weight = 0;  // the loss's denominator when the budget cuts the epoch
    int64_t start = 0;
    for (; start < n && !(budget && result.steps == s.max_steps); start += batch) {
      const int64_t b = std::min(batch, n - start);
      const at::Tensor rows = epoch_rows.narrow(0, start, b);
      at::Tensor x = data.images.index_select(0, rows);
      const at::Tensor y = data.labels.index_select(0, rows);
      at::Tensor w;
      double weight_sum = static_cast<double>(b);
      if (weighted) {
        w = data.weights.index_select(0, rows);
        weight_sum = 0;
        for (int64_t i = start; i < start + b; ++i) weight_sum += host_w[static_cast<size_t>(order[static_cast<size_t>(i)])];
      }
      const uint64_t augment_seed = augment_rng.next_u64();  // drawn either way: one per batch
      if (s.dsa) x = dsa_augment(x, augment_seed, /*siamese=*/false);
      sgd.zero_grad();
      const BatchLoss loss = weighted_cross_entropy(net.forward(x), y, w, weight_sum);
      loss.loss.backward();
      sgd.step();
      epoch_total.add_(loss.total.detach());
      visited_weight += weight_sum;
      ++result.steps;
    }
    result.final_loss = epoch_total.item<double>() / (start < n ? visited_weight : total_weight);
    result.epochs = epoch;
    if (on_epoch) on_epoch(NetworkEpoch{epoch, sgd.learning_rate(), result.final_loss});
    if (stop_after && stop_after(epoch)) break;
  }
  return result;
}

int64_t count_correct(const Network& net, const at::Tensor& images, const at::Tensor& labels, int64_t block_rows) {
  at::NoGradGuard no_grad;
  const int64_t m = images.size(0);
  at::Tensor correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(images.device()));
  EmbedWorkspace workspace;
  for (int64_t begin = 0; begin < m; begin += block_rows) {
    const int64_t b = std::min(block_rows, m - begin);
    const at::Tensor logits = net.classify(net.embed_inference(images.narrow(0, begin, b), workspace));
    correct.add_(logits.argmax(1).eq(labels.narrow(0, begin, b)).sum());
  }
  return correct.item<int64_t>();
}

InputShape checked_input_shape(const TrainSettings& s, int64_t dim) {
  SUBSET_CHECK_PARAM(!s.image_shape.empty(), "model",
               "the convnet needs images: the store records no image_shape [C, H, W]");
  SUBSET_CHECK(s.image_shape.size() == 3, "image_shape",
               "expected [C, H, W], got " << s.image_shape.size() << " numbers");
  for (int64_t v : s.image_shape)
    SUBSET_CHECK(v >= 1, "image_shape", "every entry of [C, H, W] must be at least 1, got " << v);
  InputShape shape{s.image_shape[0], s.image_shape[1], s.image_shape[2]};
  SUBSET_CHECK(shape.dim() == dim, "image_shape",
               "C*H*W = " << shape.dim() << " does not match the " << dim << " features of a row");
  const auto channels = static_cast<size_t>(shape.channels);
  SUBSET_CHECK(s.channel_mean.size() == s.channel_stddev.size() && (s.channel_mean.empty() || s.channel_mean.size() == channels),
               "image_shape",
               "standardisation needs one mean and one standard deviation per channel (" << channels << "), got "
                   << s.channel_mean.size() << " and " << s.channel_stddev.size());
  for (size_t c = 0; c < s.channel_mean.size(); ++c)
    SUBSET_CHECK(std::isfinite(s.channel_mean[c]) && std::isfinite(s.channel_stddev[c]) && s.channel_stddev[c] > 0,
                 "image_shape",
                 "channel " << c << ": mean " << s.channel_mean[c] << ", standard deviation " << s.channel_stddev[c]
                            << " (must be finite, deviation > 0)");
  return shape;
}

TrainedNetwork train_convnet(const LabelledView& train, int64_t num_classes, const TrainSettings& settings,
                             c10::Device device, const LabelledView* validation) {
  const InputShape shape = checked_input_shape(settings, train.dim);
  const Rng root(settings.seed);
  TrainedNetwork out{make_network(NetKind::ConvNet, shape, num_classes, root.fork(kInitStream).seed(), device), {}};

  // Rows of weight 0 are dropped before anything is drawn: the training is exactly the one on the
  // positive rows alone.
  std::vector<int64_t> keep;
  if (train.weights) {
    for (int64_t i = 0; i < train.n; ++i)
      if (train.weights[i] > 0) keep.push_back(i);
    if (static_cast<int64_t>(keep.size()) == train.n) keep.clear();
  }
  ImageTrainingData data;
  data.images = standardised_images(train.features, train.n, shape, keep, settings, device);
  data.labels = host_longs(train.labels, train.n, keep, device);
  if (train.weights) {
    for (int64_t i = 0; i < train.n; ++i)
      if (train.weights[i] > 0) data.host_weights.push_back(train.weights[i]);
    data.weights = at::tensor(data.host_weights, at::TensorOptions().dtype(at::kFloat)).to(device);
  }

  NetworkLoopSettings loop;
  loop.epochs = planned_epochs(settings, data.images.size(0));
  loop.max_steps = settings.steps.value_or(0);
  loop.batch = settings.batch;
  loop.learning_rate = settings.learning_rate.value();
  loop.momentum = settings.momentum;
  loop.weight_decay = settings.weight_decay.value();
  loop.dsa = settings.augment == "dsa";
  loop.order_seed = root.fork(kOrderStream).seed();
  loop.augment_seed = root.fork(kAugmentStream).seed();
  std::function<void(const NetworkEpoch&)> on_epoch;
  if (settings.on_epoch)
    on_epoch = [&](const NetworkEpoch& e) { settings.on_epoch(e.epoch, loop.epochs, e.loss); };
  if (!validation) {
    out.loop = train_network(out.net, data, loop, on_epoch);
    return out;
  }
  const at::Tensor val_images = standardised_images(validation->features, validation->n, shape, {}, settings, device);
  const at::Tensor val_labels = host_longs(validation->labels, validation->n, {}, device);
  BestEpoch best(out.net.params, settings.patience.value());
  out.loop = train_network(out.net, data, loop, on_epoch, [&](int64_t epoch) {
    const int64_t correct = count_correct(out.net, val_images, val_labels);
    return best.record(epoch, static_cast<double>(correct) / static_cast<double>(validation->n));
  });
  best.restore();
  out.loop.best_epoch = best.best_epoch();
  out.loop.validation_accuracy = best.best_accuracy();
  return out;
}

at::Tensor standardised_images(const float* rows, int64_t n, const InputShape& shape, const TrainSettings& settings,
                               c10::Device device) {
  return standardised_images(rows, n, shape, {}, settings, device);
}

TrainOutcome train_convnet_and_test(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                                    const TrainSettings& settings, c10::Device device, const LabelledView* validation) {
  const TrainedNetwork trained = train_convnet(train, num_classes, settings, device, validation);
  const at::Tensor test_images = standardised_images(test.features, test.n, trained.net.input, settings, device);
  const at::Tensor test_labels = host_longs(test.labels, test.n, {}, device);
  TrainOutcome out;
  out.final_loss = trained.loop.final_loss;
  out.test_accuracy =
      static_cast<double>(count_correct(trained.net, test_images, test_labels)) / static_cast<double>(test.n);
  out.steps = trained.loop.steps;
  out.epochs = trained.loop.epochs;
  out.best_epoch = validation ? trained.loop.best_epoch : trained.loop.epochs;
  if (validation) out.validation_accuracy = trained.loop.validation_accuracy;
  return out;
}

}  // namespace subset::nn::internal
