#pragma once
// The importance coresets: loss, el2n, grand, forgetting, entropy, margin, least-confidence. Each
// trains a proxy classifier on the labelled points (scores.h: the kinds, their direction, the
// provider), scores every point, and orders the points by score (order_by_scores). One class
// serves all seven; they share one parameter list.
#include "libsubset/core/params.h"
#include "libsubset/select/scores.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// Scores: every point of the request is scored (already-selected ones too: the proxy trains on all
// labelled points), with the proxy seeded by context.seed (repeat r: seed + r). select() uses
// request.scores when given (select_per_class scores once over all classes), else score().
// Output: indices in pick order, scores[i] = the score of pick i; stats: pruned, and for coverage
// strata (non-empty strata).
class ImportanceSelector : public Selector {
 public:
  static ParamSchema params(ScoreKind kind);
  ImportanceSelector(ScoreKind kind, const ParamMap& params);
  std::string_view name() const override { return score_kind_name(kind_); }
  std::vector<float> score(const SelectionRequest& request, const RunContext& context) const override;
  Selection select(const SelectionRequest& request, const RunContext& context) const override;

 private:
  ScoreKind kind_;
  int64_t epochs_, repeats_, bins_;
  ScoreOrder order_;
  double prune_hardest_;
  ProxySettings proxy_;
};

}  // namespace subset::select
