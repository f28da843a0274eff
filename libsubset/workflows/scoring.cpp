#include "libsubset/workflows/scoring.h"

#include "libsubset/nn/scores.h"

namespace subset::workflows {
namespace {

nn::ScoreKind nn_kind(select::ScoreKind kind) {
  switch (kind) {
    case select::ScoreKind::Loss: return nn::ScoreKind::Loss;
    case select::ScoreKind::El2n: return nn::ScoreKind::El2n;
    case select::ScoreKind::Grand: return nn::ScoreKind::Grand;
    case select::ScoreKind::Forgetting: return nn::ScoreKind::Forgetting;
    case select::ScoreKind::Entropy: return nn::ScoreKind::Entropy;
    case select::ScoreKind::Margin: return nn::ScoreKind::Margin;
    case select::ScoreKind::LeastConfidence: return nn::ScoreKind::LeastConfidence;
  }
  return nn::ScoreKind::Loss;
}

}  // namespace

std::vector<float> proxy_scores(const select::ScoreRequest& r) {
  nn::LabelledView view;
  view.features = r.features;
  // Shared over ranks: this rank's rows and their labels.
  const bool shared = r.share.distributed();
  view.labels = r.labels ? r.labels->data() + (shared ? r.share.first_row : 0) : nullptr;
  view.n = shared ? r.share.rows : r.n;
  view.dim = r.dim;
  nn::ScoreSettings s;
  s.training.model = r.proxy.model;
  s.training.hidden = r.proxy.hidden;
  s.training.epochs = r.epochs;
  s.training.batch = r.proxy.batch;
  s.training.learning_rate = r.proxy.learning_rate;
  s.training.seed = r.seed;
  s.repeats = r.repeats;
  s.progress = r.progress;
  s.share = r.share;
  return nn::importance_scores(view, r.num_classes, nn_kind(r.kind), s);
}

}  // namespace subset::workflows
