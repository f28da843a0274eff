#include "libsubset/nn/internal/train_loop.h"

#include <ATen/core/Reduction.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/dot.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/log_softmax.h>
#include <ATen/ops/nll_loss.h>
#include <ATen/ops/zeros.h>

#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/adam.h"
#include "libsubset/nn/internal/intra_op.h"
#include "libsubset/nn/internal/linear.h"

namespace subset::nn::internal {
namespace {

constexpr uint64_t kDropoutStream = 1;

// Replaces each parameter's gradient (none: zeros) by its sum over the ranks, the same on every
// rank. `flat` is reused from step to step.
void sum_gradients_over_ranks(const std::vector<at::Tensor>& params, const Communicator& comm, std::vector<float>& flat) {
  size_t total = 0;
  for (const at::Tensor& p : params) total += static_cast<size_t>(p.numel());
  flat.resize(total);
  size_t offset = 0;
  for (const at::Tensor& p : params) {
    const auto count = static_cast<size_t>(p.numel());
    if (p.grad().defined()) {
      const at::Tensor host = p.grad().to(c10::Device(c10::kCPU)).contiguous();
      std::copy_n(host.data_ptr<float>(), count, flat.data() + offset);
    } else {
      std::fill_n(flat.data() + offset, count, 0.0f);
    }
    offset += count;
  }
  sum_over_ranks(comm, flat);
  offset = 0;
  for (const at::Tensor& p : params) {
    const at::Tensor summed = at::from_blob(flat.data() + offset, p.sizes(), at::TensorOptions().dtype(at::kFloat));
    if (p.grad().defined()) p.mutable_grad().copy_(summed);
    else p.mutable_grad() = summed.to(p.device(), /*non_blocking=*/false, /*copy=*/true);
    offset += static_cast<size_t>(p.numel());
  }
}

}  // namespace

at::Tensor borrow(const void* data, at::IntArrayRef sizes, at::ScalarType type, c10::Device device) {
  at::Tensor t = at::from_blob(const_cast<void*>(data), sizes, at::TensorOptions().dtype(type));
  return device.is_cpu() ? t : t.to(device);
}

TrainingTensors training_tensors(const LabelledView& view, c10::Device device) {
  TrainingTensors data;
  data.features = borrow(view.features, {view.n, view.dim}, at::kFloat, device);
  data.labels = borrow(view.labels, {view.n}, at::kLong, device);
  if (view.weights) {
    data.weights = borrow(view.weights, {view.n}, at::kFloat, device);
    data.host_weights = view.weights;
  }
  return data;
}

BatchLoss weighted_cross_entropy(const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& weights,
                                 double weight_sum, bool keep_per_example) {
  const at::Tensor log_p = at::log_softmax(logits, 1);
  BatchLoss out;
  if (!weights.defined() && !keep_per_example) {
    out.total = at::nll_loss(log_p, labels, {}, at::Reduction::Sum);
  } else {
    at::Tensor per = at::nll_loss(log_p, labels, {}, at::Reduction::None);
    out.total = weights.defined() ? at::dot(per, weights) : per.sum();
    if (keep_per_example) out.per_example = std::move(per);
  }
  out.loss = out.total.div(weight_sum);
  return out;
}

LoopResult train_classifier(Classifier& model, const TrainingTensors& data, const LoopSettings& settings,
                            const LoopHooks& hooks) {
  SerialIntraOp serial;
  at::AutoGradMode grad_mode(true);
  const c10::Device device = model.device();
  const int64_t n = data.features.size(0);
  const bool weighted = data.weights.defined();
  const RowShare& share = settings.share;
  const bool parallel = share.distributed();
  SUBSET_CHECK(!parallel || (!weighted && settings.dropout == 0 && share.rows == n), "training",
               "data-parallel training takes this rank's " << share.rows << " rows, unweighted and without dropout");
  // The rows the batches are drawn from: every rank's when data-parallel.
  const int64_t all_rows = parallel ? share.total_rows : n;
  const int64_t batch = std::min(settings.batch, all_rows);
  const float* host_w = data.host_weights;
  const double total_weight = weighted
                                  ? std::accumulate(host_w, host_w + n, 0.0, [](double s, float w) { return s + w; })
                                  : static_cast<double>(all_rows);

  Adam adam(model.params, settings.learning_rate, settings.weight_decay);
  Rng rng(settings.seed);
  // Its own stream, so that the batch order is the same with and without dropout.
  Dropout dropout{settings.dropout, rng.fork(kDropoutStream)};
  std::vector<int64_t> order(static_cast<size_t>(all_rows));
  std::iota(order.begin(), order.end(), int64_t{0});
  const at::Tensor order_host = at::from_blob(order.data(), {all_rows}, at::TensorOptions().dtype(at::kLong));
  // Data-parallel: this rank's rows of the current batch, as indices into its share.
  std::vector<int64_t> mine(parallel ? static_cast<size_t>(batch) : 0);
  const at::Tensor mine_host = at::from_blob(mine.data(), {static_cast<int64_t>(mine.size())}, at::TensorOptions().dtype(at::kLong));
  std::vector<float> gradients;  // data-parallel: every parameter's gradient, flattened
  // Gathers write into these instead of allocating a batch each step.
  const at::Tensor x_buffer = at::empty({batch, data.features.size(1)}, data.features.options());
  const at::Tensor y_buffer = at::empty({batch}, data.labels.options());
  const at::Tensor w_buffer = weighted ? at::empty({batch}, data.weights.options()) : at::Tensor();

  LoopResult result;
  const bool budget = settings.max_steps > 0;
  for (int64_t epoch = 1; budget ? result.steps < settings.max_steps : epoch <= settings.epochs; ++epoch) {
    // Fisher-Yates from the identity: each epoch's order depends only on the seed and the epoch.
    std::iota(order.begin(), order.end(), int64_t{0});
    for (int64_t i = all_rows - 1; i > 0; --i) {
      std::swap(order[static_cast<size_t>(i)], order[rng.uniform_index(static_cast<uint64_t>(i) + 1)]);
    }
    // One transfer per epoch off the CPU; on the CPU the order is used where it is.
    const at::Tensor epoch_rows = device.is_cpu() || parallel ? order_host : order_host.to(device);
    at::Tensor epoch_total = at::zeros({}, at::TensorOptions().dtype(at::kDouble).device(device));
    double visited_weight = 0;  // the loss's denominator when the budget cuts the epoch
    int64_t start = 0;
    for (; start < all_rows && !(budget && result.steps == settings.max_steps); start += batch) {
      const int64_t b = std::min(batch, all_rows - start);
      double weight_sum = static_cast<double>(b);
      if (weighted) {
        weight_sum = 0;
        for (int64_t i = start; i < start + b; ++i) weight_sum += host_w[order[static_cast<size_t>(i)]];
        if (!(weight_sum > 0)) continue;
      }
      int64_t local = b;  // the batch's rows on this rank
      at::Tensor rows;
      if (parallel) {
        local = 0;
        for (int64_t i = start; i < start + b; ++i) {
          const int64_t row = order[static_cast<size_t>(i)] - share.first_row;
          if (row >= 0 && row < n) mine[static_cast<size_t>(local++)] = row;
        }
        if (local > 0) rows = device.is_cpu() ? mine_host.narrow(0, 0, local) : mine_host.narrow(0, 0, local).to(device);
      } else {
        rows = epoch_rows.narrow(0, start, b);
      }

      adam.zero_grad();
      at::Tensor logits;
      BatchLoss loss;
      if (local > 0) {
        at::Tensor x = local == batch ? x_buffer : x_buffer.narrow(0, 0, local);
        at::Tensor y = local == batch ? y_buffer : y_buffer.narrow(0, 0, local);
        {
          // Rows scattered over the whole matrix: memory-bound, and faster on all threads.
          const OmpThreads threads(bulk_threads());
          at::index_select_out(x, data.features, 0, rows);
        }
        at::index_select_out(y, data.labels, 0, rows);
        at::Tensor w;
        if (weighted) {
          w = local == batch ? w_buffer : w_buffer.narrow(0, 0, local);
          at::index_select_out(w, data.weights, 0, rows);
        }
        logits = model.forward(x, &dropout);
        // Over the whole batch's weight: the ranks' gradients add up to the batch's.
        loss = weighted_cross_entropy(logits, y, w, weight_sum, static_cast<bool>(hooks.on_batch));
        loss.loss.backward();
        epoch_total.add_(loss.total.detach());
      }
      if (parallel) sum_gradients_over_ranks(model.params, *share.comm, gradients);
      adam.step();
      visited_weight += weight_sum;
      ++result.steps;
      if (hooks.on_batch && local > 0) {
        const OmpThreads full(intra_op_threads());
        hooks.on_batch(BatchInfo{epoch, rows, logits.detach(), loss.per_example.detach()});
      }
    }
    double epoch_loss = epoch_total.item<double>();
    if (parallel) epoch_loss = sum_over_ranks(*share.comm, epoch_loss);
    result.final_loss = epoch_loss / (start < all_rows ? visited_weight : total_weight);
    result.epochs = epoch;
    if (hooks.on_epoch) {
      const OmpThreads full(intra_op_threads());
      hooks.on_epoch(epoch, result.final_loss);
    }
    if (hooks.stop_after) {
      const OmpThreads full(intra_op_threads());
      if (hooks.stop_after(epoch)) break;
    }
  }
  return result;
}

void forward_in_blocks(const Classifier& model, const at::Tensor& features, int64_t block_rows,
                       const std::function<void(int64_t, const at::Tensor&)>& fn) {
  SerialIntraOp serial;
  at::NoGradGuard no_grad;
  const int64_t n = features.size(0);
  for (int64_t begin = 0; begin < n; begin += block_rows) {
    const at::Tensor logits = model.forward(features.narrow(0, begin, std::min(block_rows, n - begin)));
    const OmpThreads full(intra_op_threads());
    fn(begin, logits);
  }
}

int64_t count_correct(const Classifier& model, const at::Tensor& features, const at::Tensor& labels,
                      int64_t block_rows) {
  at::Tensor correct = at::zeros({}, at::TensorOptions().dtype(at::kLong).device(model.device()));
  forward_in_blocks(model, features, block_rows, [&](int64_t begin, const at::Tensor& logits) {
    correct.add_(logits.argmax(1).eq(labels.narrow(0, begin, logits.size(0))).sum());
  });
  return correct.item<int64_t>();
}

}  // namespace subset::nn::internal
