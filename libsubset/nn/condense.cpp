#include "libsubset/nn/condense.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/classifier.h"
#include "libsubset/nn/internal/dsa.h"
#include "libsubset/nn/internal/matching.h"
#include "libsubset/nn/internal/network.h"

namespace subset::nn {
namespace {

using internal::Network;

// Streams of Rng(seed).fork(): the initialisation, then one per iteration.
constexpr uint64_t kInitStream = 0;

std::vector<std::vector<int64_t>> rows_by_class(const CondenseData& data) {
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(data.classes));
  for (int64_t i = 0; i < data.n; ++i) rows[static_cast<size_t>(data.labels[i])].push_back(i);
  return rows;
}

// `count` distinct rows of `pool` (count <= pool size), by a partial Fisher-Yates shuffle.
std::vector<int64_t> sample_without_replacement(std::vector<int64_t> pool, int64_t count, Rng& rng) {
  const int64_t n = static_cast<int64_t>(pool.size());
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(n - i)));
    std::swap(pool[static_cast<size_t>(i)], pool[static_cast<size_t>(j)]);
  }
  pool.resize(static_cast<size_t>(count));
  return pool;
}

internal::InputShape input_shape(const CondenseData& data) {
  if (data.image_shape.size() == 3) return {data.image_shape[0], data.image_shape[1], data.image_shape[2]};
  return {1, 1, data.dim};
}

at::Tensor host_tensor(const float* values, std::vector<int64_t> sizes) {
  return at::from_blob(const_cast<float*>(values), sizes, at::TensorOptions().dtype(at::kFloat));
}

class Condenser {
 public:
  Condenser(const CondenseSettings& s, const CondenseData& data, CondenseState state)
      : s_(resolve_defaults(s)), data_(data), state_(std::move(state)), rows_(rows_by_class(data)) {
    device_ = internal::parse_device(s_.device);
    kind_ = internal::parse_net_kind(s_.net, "condense");
    shape_ = input_shape(data);
    dsa_ = *s_.augment == "dsa";
    const ChannelStatistics stats = channel_statistics(data.features, data.n, data.dim, shape_.channels);
    const auto opts = at::TensorOptions().dtype(at::kFloat);
    mean_ = at::tensor(stats.mean, opts).view({1, shape_.channels, 1, 1}).to(device_);
    stddev_ = at::tensor(stats.stddev, opts).view({1, shape_.channels, 1, 1}).to(device_);
    // SGD on standardised images z = (x - mean) / std with rate lr is SGD on x with rate lr * std^2
    // per channel (the gradient in x is the gradient in z over std): the reference's dynamics,
    // while the images stay in the store's space.
    step_scale_ = (*s_.lr_img * stddev_ * stddev_);
    const int64_t rows = data.classes * s_.ipc;
    real_ = host_tensor(data.features, {data.n, shape_.channels, shape_.height, shape_.width})
                .to(device_, at::kFloat, /*non_blocking=*/false, /*copy=*/true);
    real_.sub_(mean_).div_(stddev_);
    images_ = host_tensor(state_.images.data(), {rows, shape_.channels, shape_.height, shape_.width}).to(device_, at::kFloat, false, true);
    momentum_ = host_tensor(state_.momentum.data(), {rows, shape_.channels, shape_.height, shape_.width}).to(device_, at::kFloat, false, true);
    synthetic_labels_ = at::arange(data.classes, at::TensorOptions().dtype(at::kLong)).repeat_interleave(s_.ipc).to(device_);
    allocate_workspace();
  }

  CondenseState run(const CondenseHooks& hooks) {
    for (int64_t it = state_.iterations_done + 1; it <= s_.iterations; ++it) {
      Rng rng = Rng(s_.seed).fork(static_cast<uint64_t>(it));
      state_.last_loss = s_.method == "dm" ? dm_iteration(rng) : dc_iteration(rng);
      state_.iterations_done = it;
      const bool checkpoint = hooks.checkpoint_every > 0 && it % hooks.checkpoint_every == 0 && it < s_.iterations;
      if (checkpoint && hooks.on_checkpoint) hooks.on_checkpoint(snapshot());
      if (hooks.on_iteration) hooks.on_iteration(it, s_.iterations, state_.last_loss);
    }
    return snapshot();
  }

 private:
  at::Tensor standardise(const at::Tensor& x) const { return (x - mean_) / stddev_; }

  // The buffers an iteration refills rather than allocates. Allocated afresh, each of these tensors
  // of up to megabytes would be, under glibc's default settings, a fresh mmap or heap that glibc
  // trims and grows again, whose pages the kernel zeroes on first touch; refilled, they cost the
  // same whatever the allocator's settings (the CLI used to raise glibc's thresholds with mallopt,
  // which library callers do not get). What still allocates per iteration is libtorch's: the
  // autograd graphs (the synthetic images', DC's real batches') and DSA's intermediates.
  struct Workspace {
    std::vector<at::Tensor> real;     // per class: its real batch (DM holds all at once)
    at::Tensor index;                 // sampled rows on the device (CPU: the host rows serve)
    at::Tensor step;                  // the images' SGD step, momentum * step scale
    at::Tensor z, batch, batch_labels;  // DC's network training: the standardised images, a batch
    std::vector<at::Tensor> updates;  // DC's network training: lr_net * gradient, per parameter
    internal::EmbedWorkspace embed;   // DM's real embeddings
  };

  void allocate_workspace() {
    const auto floats = at::TensorOptions().dtype(at::kFloat).device(device_);
    for (const auto& pool : rows_) {
      const int64_t count = std::min<int64_t>(s_.batch_real, static_cast<int64_t>(pool.size()));
      work_.real.push_back(at::empty({count, shape_.channels, shape_.height, shape_.width}, floats));
    }
    work_.index = at::empty({0}, floats.dtype(at::kLong));
    work_.step = at::empty_like(images_);
    work_.z = at::empty_like(images_);
    work_.batch = at::empty({0}, floats);
    work_.batch_labels = at::empty({0}, floats.dtype(at::kLong));
  }

  // `rows` as an index tensor on the device: on the CPU the rows themselves, borrowed.
  at::Tensor device_index(std::vector<int64_t>& rows) {
    const at::Tensor host =
        at::from_blob(rows.data(), {static_cast<int64_t>(rows.size())}, at::TensorOptions().dtype(at::kLong));
    if (device_.is_cpu()) return host;
    work_.index.resize_({host.size(0)});
    return work_.index.copy_(host);
  }

  // Real images of class c, standardised: batch_real of them (all, for a smaller class), in the
  // class's buffer, which the next call for c overwrites.
  const at::Tensor& real_batch(int64_t c, Rng& rng) {
    const auto& pool = rows_[static_cast<size_t>(c)];
    at::Tensor& out = work_.real[static_cast<size_t>(c)];
    std::vector<int64_t> rows = sample_without_replacement(pool, out.size(0), rng);
    return at::index_select_out(out, real_, 0, device_index(rows));
  }

  at::Tensor class_images(const at::Tensor& standardised, int64_t c) const {
    return standardised.narrow(0, c * s_.ipc, s_.ipc);
  }

  Network fresh_network(Rng& rng) const {
    return internal::make_network(kind_, shape_, data_.classes, rng.next_u64(), device_);
  }

  void image_step(const at::Tensor& gradient) {
    at::NoGradGuard no_grad;
    momentum_.mul_(s_.momentum_img).add_(gradient);
    images_.sub_(at::mul_out(work_.step, momentum_, step_scale_));
  }

  // One DM iteration: the squared distance between the mean embeddings of real and synthetic
  // images, summed over classes, under a fresh network; one SGD step on the images. Returns the
  // loss per class, as the reference prints it.
  double dm_iteration(Rng& rng) {
    Network net = fresh_network(rng);
    for (auto& p : net.params) p.requires_grad_(false);
    const at::Tensor images = images_.detach().requires_grad_(true);
    const at::Tensor z = standardise(images);
    std::vector<at::Tensor> real_parts, synthetic_parts;
    for (int64_t c = 0; c < data_.classes; ++c) {
      at::Tensor real = real_batch(c, rng);
      at::Tensor synthetic = class_images(z, c);
      if (dsa_) {
        const uint64_t seed = rng.next_u64();
        real = internal::dsa_augment(real, seed, true);
        synthetic = internal::dsa_augment(synthetic, seed, true);
      }
      real_parts.push_back(real);
      synthetic_parts.push_back(synthetic);
    }
    const at::Tensor real_means = internal::real_class_means(net, real_parts, &work_.embed);
    const at::Tensor loss = internal::distribution_matching_loss(net, real_means, at::cat(synthetic_parts), s_.ipc);
    const at::Tensor gradient = torch::autograd::grad({loss}, {images})[0];
    image_step(gradient);
    return loss.item<double>() / static_cast<double>(data_.classes);
  }

  // One DC iteration: outer_loop matching steps on a fresh network, which trains on the synthetic
  // set for inner_loop epochs between them. Returns the mean matching loss per class and step.
  double dc_iteration(Rng& rng) {
    Network net = fresh_network(rng);
    double loss_sum = 0;
    for (int64_t outer = 0; outer < *s_.outer_loop; ++outer) {
      const at::Tensor images = images_.detach().requires_grad_(true);
      const at::Tensor z = standardise(images);
      at::Tensor loss = at::zeros({}, images.options());
      for (int64_t c = 0; c < data_.classes; ++c) {
        at::Tensor real = real_batch(c, rng);
        at::Tensor synthetic = class_images(z, c);
        if (dsa_) {
          const uint64_t seed = rng.next_u64();
          {
            at::NoGradGuard no_grad;
            real = internal::dsa_augment(real, seed, true);
          }
          synthetic = internal::dsa_augment(synthetic, seed, true);
        }
        loss = loss + internal::gradient_matching_loss(net, real, synthetic, c);
      }
      const at::Tensor gradient = torch::autograd::grad({loss}, {images})[0];
      image_step(gradient);
      loss_sum += loss.item<double>();
      if (outer + 1 < *s_.outer_loop) train_network(net, rng);
    }
    return loss_sum / static_cast<double>(data_.classes * *s_.outer_loop);
  }

  // inner_loop epochs of plain SGD (the reference's optimiser for the network: lr_net, no
  // momentum) on the current synthetic images, shuffled, batch_train per step.
  void train_network(Network& net, Rng& rng) {
    at::Tensor& z = work_.z;
    {
      at::NoGradGuard no_grad;
      at::sub_out(z, images_, mean_).div_(stddev_);
    }
    const int64_t n = z.size(0);
    work_.updates.resize(net.params.size());
    for (size_t l = 0; l < net.params.size(); ++l) {
      if (!work_.updates[l].defined()) work_.updates[l] = at::empty_like(net.params[l]);
    }
    const int64_t batch = std::min(s_.batch_train, n);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t epoch = 0; epoch < *s_.inner_loop; ++epoch) {
      std::iota(order.begin(), order.end(), int64_t{0});
      order = sample_without_replacement(order, n, rng);
      for (int64_t start = 0; start < n; start += batch) {
        const int64_t count = std::min(batch, n - start);
        std::vector<int64_t> rows(order.begin() + start, order.begin() + start + count);
        const at::Tensor index = device_index(rows);
        at::Tensor x = at::index_select_out(work_.batch, z, 0, index);
        if (dsa_) x = internal::dsa_augment(x, rng.next_u64(), false);
        const at::Tensor logits = net.forward(x);
        const at::Tensor& labels = at::index_select_out(work_.batch_labels, synthetic_labels_, 0, index);
        const at::Tensor loss = at::nll_loss(at::log_softmax(logits, 1), labels);
        const std::vector<at::Tensor> grads = torch::autograd::grad({loss}, net.params);
        at::NoGradGuard no_grad;
        // copy_ and mul_ rather than sub_(g, alpha): the fused multiply-add would round otherwise.
        for (size_t l = 0; l < net.params.size(); ++l) {
          net.params[l].sub_(work_.updates[l].copy_(grads[l]).mul_(s_.lr_net));
        }
      }
    }
  }

  CondenseState snapshot() const {
    CondenseState out = state_;
    const at::Tensor images = images_.detach().to(at::kCPU).contiguous();
    const at::Tensor momentum = momentum_.detach().to(at::kCPU).contiguous();
    out.images.assign(images.data_ptr<float>(), images.data_ptr<float>() + images.numel());
    out.momentum.assign(momentum.data_ptr<float>(), momentum.data_ptr<float>() + momentum.numel());
    return out;
  }

  CondenseSettings s_;
  const CondenseData& data_;
  CondenseState state_;
  std::vector<std::vector<int64_t>> rows_;
  c10::Device device_{c10::kCPU};
  internal::NetKind kind_ = internal::NetKind::ConvNet;
  internal::InputShape shape_;
  bool dsa_ = false;
  at::Tensor mean_, stddev_, step_scale_;
  at::Tensor real_;              // every training row, standardised, [n, C, H, W]
  at::Tensor images_, momentum_;  // the synthetic images (store space) and their SGD momentum
  at::Tensor synthetic_labels_;
  Workspace work_;
};

}  // namespace

ChannelStatistics channel_statistics(const float* features, int64_t n, int64_t dim, int64_t channels) {
  const int64_t per_channel = dim / channels;
  ChannelStatistics stats;
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0, sum_sq = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = features + i * dim + c * per_channel;
      for (int64_t k = 0; k < per_channel; ++k) {
        sum += p[k];
        sum_sq += static_cast<double>(p[k]) * p[k];
      }
    }
    const double count = static_cast<double>(n * per_channel);
    const double mean = sum / count;
    const double variance = std::max(0.0, sum_sq / count - mean * mean);
    stats.mean.push_back(static_cast<float>(mean));
    stats.stddev.push_back(variance > 0 ? static_cast<float>(std::sqrt(variance)) : 1.0f);
  }
  return stats;
}

void check_condense(const CondenseSettings& settings, const CondenseData& data, const std::string& where) {
  check_condense_settings(settings);
  const CondenseSettings s = resolve_defaults(settings);
  const internal::NetKind kind = internal::parse_net_kind(s.net, where);
  SUBSET_CHECK(data.n > 0 && data.classes >= 1, where, "no labelled training rows to condense");
  const bool images = data.image_shape.size() == 3;
  if (kind == internal::NetKind::ConvNet)
    SUBSET_CHECK_PARAM(images, "net", "convnet needs images, but the store has no image_shape (choose net mlp)");
  if (*s.augment == "dsa")
    SUBSET_CHECK_PARAM(images, "augment", "dsa needs images, but the store has no image_shape (choose augment none)");
  if (images) {
    // make_network refuses inputs too small for the ConvNet's poolings, in its own words.
    internal::make_network(kind, input_shape(data), data.classes, 0, c10::Device(c10::kCPU));
  }
  const auto rows = rows_by_class(data);
  int64_t smallest = std::numeric_limits<int64_t>::max(), smallest_class = 0;
  for (size_t c = 0; c < rows.size(); ++c) {
    const int64_t size = static_cast<int64_t>(rows[c].size());
    SUBSET_CHECK(size > 0, where, "class " << c << " has no training rows: every class needs real images to match");
    if (size < smallest) smallest = size, smallest_class = static_cast<int64_t>(c);
  }
  if (s.init == "real")
    SUBSET_CHECK_PARAM(s.ipc <= smallest, "ipc",
                 "ipc " << s.ipc << " is larger than class " << smallest_class << " (" << smallest
                        << " rows): init real needs ipc distinct images per class (choose init noise)");
  internal::parse_device(s.device);
}

CondenseState initial_state(const CondenseSettings& settings, const CondenseData& data) {
  const CondenseSettings s = resolve_defaults(settings);
  CondenseState state;
  const int64_t rows = data.classes * s.ipc;
  state.images.resize(static_cast<size_t>(rows * data.dim));
  state.momentum.assign(state.images.size(), 0.0f);
  state.labels.resize(static_cast<size_t>(rows));
  Rng rng = Rng(s.seed).fork(kInitStream);
  const auto by_class = rows_by_class(data);
  const int64_t channels = data.image_shape.size() == 3 ? data.image_shape[0] : 1;
  const int64_t per_channel = data.dim / channels;
  // Noise is drawn in the standardised space, so it needs the statistics; real picks do not.
  const ChannelStatistics stats =
      s.init == "noise" ? channel_statistics(data.features, data.n, data.dim, channels) : ChannelStatistics{};
  for (int64_t c = 0; c < data.classes; ++c) {
    const auto picks = s.init == "real" ? sample_without_replacement(by_class[static_cast<size_t>(c)], s.ipc, rng)
                                        : std::vector<int64_t>{};
    for (int64_t k = 0; k < s.ipc; ++k) {
      const int64_t row = c * s.ipc + k;
      state.labels[static_cast<size_t>(row)] = c;
      float* out = state.images.data() + row * data.dim;
      if (s.init == "real") {
        std::copy_n(data.features + picks[static_cast<size_t>(k)] * data.dim, data.dim, out);
      } else {
        // Standard normal in the standardised space the networks see.
        for (int64_t j = 0; j < data.dim; ++j) {
          const size_t channel = static_cast<size_t>(j / per_channel);
          out[j] = static_cast<float>(stats.mean[channel] + stats.stddev[channel] * rng.normal());
        }
      }
    }
  }
  return state;
}

CondenseState condense(const CondenseSettings& settings, const CondenseData& data, CondenseState state,
                       const CondenseHooks& hooks) {
  at::AutoGradMode grad_mode(true);
  Condenser condenser(settings, data, std::move(state));
  return condenser.run(hooks);
}

}  // namespace subset::nn
