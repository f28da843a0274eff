#pragma once
// Per-point importance scores from a proxy model, and the orders that turn scores into a selection
// (docs/methods/selection.md, "Importance coresets").
//
// Direction, for every kind: a HIGHER score means a HARDER, more uncertain, more important point.
//   loss              cross-entropy -log p_y of the point under the proxy
//   el2n              ||p - onehot(y)||_2
//   grand             ||d loss / d (last layer's weights and bias)||_2 = ||p - onehot(y)||_2 * sqrt(||h||^2 + 1)
//   forgetting        forgetting events (correct at one epoch, wrong at the next time it is seen);
//                     a point never classified correctly counts E (more than any learned point can have)
//   entropy           -sum_c p_c ln p_c
//   margin            1 - (p_top1 - p_top2)
//   least-confidence  1 - p_top1
// (p: the proxy's softmax output, h: its last hidden layer, the input for the linear model.)
//
// The scores themselves need libtorch, which this module does not link: they come from a provider
// that libsubset_workflows_nn installs when its user calls workflows::install_nn_providers()
// (workflows/nn_entry.h). The orders are plain C++ and live here.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/rng.h"

namespace subset::select {

enum class ScoreKind { Loss, El2n, Grand, Forgetting, Entropy, Margin, LeastConfidence };
// "loss", "el2n", "grand", "forgetting", "entropy", "margin", "least-confidence": the method names.
const char* score_kind_name(ScoreKind kind);

// The proxy classifier that produces the scores (libsubset/nn's trainer, Adam).
struct ProxySettings {
  std::string model = "mlp";  // "linear" | "mlp"
  int64_t hidden = 256;
  int64_t batch = 256;
  double learning_rate = 1e-3;
};

struct ScoreRequest {
  const float* features = nullptr;               // n x dim (share.rows x dim when shared), row-major, finite
  int64_t n = 0;
  int64_t dim = 0;
  const std::vector<int64_t>* labels = nullptr;  // n labels in [0, num_classes); every kind trains on them
  int64_t num_classes = 0;
  ScoreKind kind = ScoreKind::Loss;
  int64_t epochs = 1;    // proxy training epochs, >= 1
  int64_t repeats = 1;   // independent proxies (repeat r: seed + r); scores are their mean
  uint64_t seed = 0;
  ProxySettings proxy;
  std::function<void(int64_t, int64_t)> progress;  // (units done, in all): epochs, plus a scoring pass per repeat; may be empty
  // On several ranks: `features` holds this rank's share of the n rows, the proxy trains
  // data-parallel, and every rank gets all n scores (a collective call).
  RowShare share;
};

// Returns n scores, one per point, higher = harder (see above).
using ScoreProvider = std::vector<float> (*)(const ScoreRequest&);
// Process-wide; workflows::install_nn_providers() installs the libtorch one. Null uninstalls.
void set_score_provider(ScoreProvider provider);
ScoreProvider score_provider();
// Calls the provider and checks its answer (n finite values). Throws subset::Error when none is
// installed ("... needs libsubset_workflows_nn (libtorch)") or the scores are not finite.
std::vector<float> compute_scores(const ScoreRequest& request);

enum class ScoreOrder { Hardest, Easiest, Coverage };
ScoreOrder parse_score_order(const std::string& name);  // "hardest" | "easiest" | "coverage"

struct OrderedPicks {
  std::vector<int64_t> indices;  // budget distinct indices, in pick order
  int64_t pruned = 0;            // points dropped as the hardest before ordering
  int64_t strata = 0;            // coverage: non-empty strata the remaining points fell into
};

// Picks `budget` points of [0, scores.size()) not in `excluded` (any order, unique, in range):
//  1. ties are broken by a uniformly random permutation drawn from `rng`, so that equal scores
//     (forgetting counts are small integers) never favour low indices;
//  2. the floor(prune_hardest * open) highest-scoring open points are dropped, but never so many
//     that fewer than `budget` remain;
//  3. hardest: the highest scores first; easiest: the lowest first; coverage (CCS, Zheng et al.
//     2023): the remaining score range [min, max] is cut into `bins` equal-width strata, the
//     strata are visited from the sparsest (fewest points; ties to the lower score range) and
//     each gets min(its size, floor(remaining budget / remaining non-empty strata)) points, drawn
//     uniformly within it (this always spends the whole budget: the last, largest stratum takes
//     what is left); the strata's picks are interleaved (allocation.h) so that every prefix
//     spreads over the strata like the whole selection.
// Requires 0 <= prune_hardest < 1, bins >= 1, budget <= open points.
OrderedPicks order_by_scores(const std::vector<float>& scores, int64_t budget, ScoreOrder order, double prune_hardest,
                             int64_t bins, Rng& rng, const std::vector<int64_t>& excluded = {});

// Coverage's split of the budget over strata of the given sizes (the rule in step 3 above).
// Requires budget <= sum(sizes).
std::vector<int64_t> coverage_allocation(const std::vector<int64_t>& sizes, int64_t budget);

}  // namespace subset::select
