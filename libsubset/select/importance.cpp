#include "libsubset/select/importance.h"

#include <algorithm>

#include "libsubset/core/error.h"

namespace subset::select {

ParamSchema ImportanceSelector::params(ScoreKind kind) {
  ParamSchema s(score_kind_name(kind));
  s.add_choice("order", "coverage",
               "coverage: spread over equal-width score strata (CCS); hardest: highest scores first; easiest: "
               "lowest first",
               {"hardest", "easiest", "coverage"})
      .add_float("prune-hardest", 0.0, "fraction of the highest-scoring points never selected, whatever the order",
                 at_least(0.0), less_than(1.0))
      .add_int("bins", 50, "coverage: number of equal-width score strata", 1, 100000)
      .add_int("score-epochs", 3, "epochs of proxy training before scoring (forgetting: epochs observed)", 1)
      .add_int("score-repeats", 1, "proxies trained with seeds SEED, SEED+1, ...; the scores are their mean", 1)
      .add_choice("score-model", "mlp", "proxy model: softmax regression or one hidden layer (ReLU)",
                  {"linear", "mlp"})
      .add_int("score-hidden", 256, "hidden width of the mlp proxy", 1)
      .add_int("score-batch", 256, "proxy mini-batch size", 1)
      .add_float("score-lr", 1e-3, "proxy learning rate (Adam)", greater_than(0.0), at_most(10.0));
  return s;
}

ImportanceSelector::ImportanceSelector(ScoreKind kind, const ParamMap& p)
    : kind_(kind),
      epochs_(p.get_int("score-epochs")),
      repeats_(p.get_int("score-repeats")),
      bins_(p.get_int("bins")),
      order_(parse_score_order(p.get_string("order"))),
      prune_hardest_(p.get_float("prune-hardest")) {
  proxy_.model = p.get_string("score-model");
  proxy_.hidden = p.get_int("score-hidden");
  proxy_.batch = p.get_int("score-batch");
  proxy_.learning_rate = p.get_float("score-lr");
}

std::vector<float> ImportanceSelector::score(const SelectionRequest& request, const RunContext& context) const {
  SUBSET_CHECK((request.has_features() || request.shared()) && request.dim >= 1, score_kind_name(kind_),
               "method needs features");
  SUBSET_CHECK(request.labels, score_kind_name(kind_), "method needs labels, and the store has none");
  ScoreRequest s;
  s.features = request.shared() ? request.share_features : request.features;
  s.share = request.share;
  s.n = request.n;
  s.dim = request.dim;
  s.labels = request.labels;
  s.num_classes = request.num_classes;
  if (s.num_classes <= 0)
    for (int64_t l : *request.labels) s.num_classes = std::max(s.num_classes, l + 1);
  s.kind = kind_;
  s.epochs = epochs_;
  s.repeats = repeats_;
  s.seed = context.seed;
  s.proxy = proxy_;
  s.progress = context.progress;
  return compute_scores(s);
}

Selection ImportanceSelector::select(const SelectionRequest& request, const RunContext& context) const {
  std::vector<float> own;
  if (!request.scores) own = score(request, context);
  const std::vector<float>& scores = request.scores ? *request.scores : own;
  SUBSET_CHECK(static_cast<int64_t>(scores.size()) == request.n, score_kind_name(kind_),
               "need one score per point (" << request.n << "), got " << scores.size());
  // A stream of its own, apart from the proxy's (which uses the seed itself).
  Rng rng = Rng(context.seed).fork(0x5c0e5);
  const OrderedPicks picks =
      order_by_scores(scores, request.budget, order_, prune_hardest_, bins_, rng, request.already_selected);
  Selection out;
  out.indices = picks.indices;
  for (int64_t i : out.indices) out.scores.push_back(scores[static_cast<size_t>(i)]);
  out.stats["pruned"] = picks.pruned;
  if (order_ == ScoreOrder::Coverage) out.stats["strata"] = picks.strata;
  return out;
}

}  // namespace subset::select
