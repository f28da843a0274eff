#include "libsubset/nn/scores.h"

#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/zeros.h>

#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/intra_op.h"
#include "libsubset/nn/internal/scores.h"
#include "libsubset/nn/internal/train_loop.h"
#include "libsubset/nn/torch_threads.h"

namespace subset::nn {
namespace {

using internal::Classifier;

void check_inputs(const LabelledView& data, int64_t num_classes, const ScoreSettings& s) {
  const TrainSettings t = resolve_defaults(s.training);
  SUBSET_CHECK_PARAM(*t.epochs >= 1, "score-epochs", "the proxy must train at least 1 epoch, got " << *t.epochs);
  SUBSET_CHECK_PARAM(s.repeats >= 1, "score-repeats", "at least 1 repeat, got " << s.repeats);
  SUBSET_CHECK(t.batch >= 1 && t.hidden >= 1, "proxy", "batch and hidden width must be at least 1");
  SUBSET_CHECK_PARAM(std::isfinite(*t.learning_rate) && *t.learning_rate > 0, "score-lr",
               "learning rate must be a finite number > 0, got " << *t.learning_rate);
  SUBSET_CHECK(num_classes >= 1, "scores", "number of classes must be at least 1, got " << num_classes);
  SUBSET_CHECK(!s.share.distributed() || s.share.rows == data.n, "scores",
               "a rank's share of " << s.share.rows << " rows does not match its " << data.n << " rows");
  SUBSET_CHECK(data.n > 0 && data.dim > 0 && data.features && data.labels, "scores",
               "nothing to score (" << data.n << " rows of " << data.dim << " features, labels needed)");
  for (int64_t i = 0; i < data.n; ++i)
    SUBSET_CHECK(data.labels[i] >= 0 && data.labels[i] < num_classes, "labels",
                 "label " << data.labels[i] << " of row " << i + s.share.first_row << " is outside [0, " << num_classes << ")");
}

// One pass of the trained proxy over all rows: the score of every row, float32 [n].
at::Tensor score_pass(const Classifier& model, ScoreKind kind, const at::Tensor& x, const at::Tensor& y) {
  internal::SerialIntraOp serial;
  at::NoGradGuard no_grad;
  const int64_t n = x.size(0);
  constexpr int64_t kBlock = 4096;
  at::Tensor out = at::empty({n}, x.options());
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    const int64_t b = std::min(kBlock, n - begin);
    const at::Tensor hidden = internal::last_layer_input(model, x.narrow(0, begin, b));
    const at::Tensor logits = internal::last_layer(model, hidden);
    const at::Tensor labels = y.narrow(0, begin, b);
    at::Tensor s;
    switch (kind) {
      case ScoreKind::Loss: s = internal::loss_scores(logits, labels); break;
      case ScoreKind::El2n: s = internal::el2n_scores(logits, labels); break;
      case ScoreKind::Grand: s = internal::grand_scores(logits, labels, hidden); break;
      case ScoreKind::Entropy: s = internal::entropy_scores(logits); break;
      case ScoreKind::Margin: s = internal::margin_scores(logits); break;
      case ScoreKind::LeastConfidence: s = internal::least_confidence_scores(logits); break;
      case ScoreKind::Forgetting: SUBSET_FAIL("forgetting", "forgetting is counted during training");
    }
    out.narrow(0, begin, b).copy_(s);
  }
  return out;
}

}  // namespace

std::vector<float> importance_scores(const LabelledView& data, int64_t num_classes, ScoreKind kind,
                                     const ScoreSettings& settings) {
  enable_torch_thread_control();
  const TrainSettings t = resolve_defaults(settings.training);
  const internal::ModelKind model_kind = internal::parse_model_kind(t.model, "score-model");
  check_inputs(data, num_classes, settings);
  const c10::Device device = internal::parse_device(t.device);

  internal::TrainingTensors tensors;  // unweighted: every row counts once
  tensors.features = at::from_blob(const_cast<float*>(data.features), {data.n, data.dim}, at::kFloat).to(device);
  tensors.labels = at::from_blob(const_cast<int64_t*>(data.labels), {data.n}, at::kLong).to(device);
  at::Tensor total = at::zeros({data.n}, tensors.features.options());
  // Progress in epochs of proxy training, each repeat's scoring pass over the rows counted as one
  // more (forgetting counts while training: no pass), reported after it, so that 100% is the end.
  const int64_t per_repeat = *t.epochs + (kind == ScoreKind::Forgetting ? 0 : 1);
  const int64_t all_units = per_repeat * settings.repeats;
  for (int64_t r = 0; r < settings.repeats; ++r) {
    // Seeded as train_and_test seeds a training with seed + r.
    const Rng root(t.seed + static_cast<uint64_t>(r));
    Classifier model = internal::make_classifier(model_kind, data.dim, t.hidden, num_classes, root.fork(0).seed(), device);
    internal::LoopSettings loop;
    loop.epochs = *t.epochs;
    loop.batch = t.batch;
    loop.learning_rate = *t.learning_rate;
    loop.seed = root.fork(1).seed();
    loop.share = settings.share;
    internal::LoopHooks hooks;
    at::Tensor correct;  // forgetting: [epochs, n], row i right in the step that visited it
    if (kind == ScoreKind::Forgetting) {
      correct = at::zeros({*t.epochs, data.n}, tensors.labels.options().dtype(at::kBool));
      hooks.on_batch = [&](const internal::BatchInfo& b) {
        correct.select(0, b.epoch - 1)
            .index_copy_(0, b.rows, b.logits.argmax(1).eq(tensors.labels.index_select(0, b.rows)));
      };
    }
    hooks.on_epoch = [&](int64_t epoch, double) {
      check_interrupted();
      if (settings.progress) settings.progress(r * per_repeat + epoch, all_units);
    };
    internal::train_classifier(model, tensors, loop, hooks);
    total.add_(kind == ScoreKind::Forgetting ? internal::forgetting_counts(correct).to(at::kFloat)
                                             : score_pass(model, kind, tensors.features, tensors.labels));
    if (settings.progress) settings.progress((r + 1) * per_repeat, all_units);
  }
  total.div_(static_cast<double>(settings.repeats));
  const at::Tensor host = total.to(c10::Device(c10::kCPU)).contiguous();
  std::vector<float> scores(host.data_ptr<float>(), host.data_ptr<float>() + data.n);
  if (!settings.share.distributed()) return scores;
  // Each rank scored its share; the shares follow one another in rank order.
  scores = concatenate_over_ranks(*settings.share.comm, scores);
  SUBSET_CHECK(static_cast<int64_t>(scores.size()) == settings.share.total_rows, "scores",
               "the ranks' shares hold " << scores.size() << " rows, not " << settings.share.total_rows);
  return scores;
}

}  // namespace subset::nn
