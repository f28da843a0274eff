#include "libsubset/select/scores.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/select/allocation.h"
#include "libsubset/select/sampling.h"

namespace subset::select {
namespace {

std::atomic<ScoreProvider> provider{nullptr};

}  // namespace

const char* score_kind_name(ScoreKind kind) {
  switch (kind) {
    case ScoreKind::Loss: return "loss";
    case ScoreKind::El2n: return "el2n";
    case ScoreKind::Grand: return "grand";
    case ScoreKind::Forgetting: return "forgetting";
    case ScoreKind::Entropy: return "entropy";
    case ScoreKind::Margin: return "margin";
    case ScoreKind::LeastConfidence: return "least-confidence";
  }
  return "?";
}

void set_score_provider(ScoreProvider p) { provider.store(p); }

ScoreProvider score_provider() { return provider.load(); }

std::vector<float> compute_scores(const ScoreRequest& request) {
  const ScoreProvider p = score_provider();
  SUBSET_CHECK(p, score_kind_name(request.kind),
               "scoring with a proxy model needs libsubset_workflows_nn (libtorch), which is not loaded");
  std::vector<float> scores = p(request);
  SUBSET_CHECK(static_cast<int64_t>(scores.size()) == request.n, score_kind_name(request.kind),
               "the score provider returned " << scores.size() << " scores for " << request.n << " points");
  for (size_t i = 0; i < scores.size(); ++i)
    SUBSET_CHECK(std::isfinite(scores[i]), score_kind_name(request.kind),
                 "the proxy model gave point " << i << " a non-finite score (training diverged? try a smaller --score-lr)");
  return scores;
}

ScoreOrder parse_score_order(const std::string& name) {
  if (name == "hardest") return ScoreOrder::Hardest;
  if (name == "easiest") return ScoreOrder::Easiest;
  if (name == "coverage") return ScoreOrder::Coverage;
  SUBSET_FAIL_PARAM("order", "unknown order '" << name << "' (expected hardest, easiest or coverage)");
}

std::vector<int64_t> coverage_allocation(const std::vector<int64_t>& sizes, int64_t budget) {
  SUBSET_CHECK(budget >= 0 && budget <= std::accumulate(sizes.begin(), sizes.end(), int64_t{0}), "coverage",
               "budget " << budget << " exceeds the points in the strata");
  std::vector<size_t> visit;
  for (size_t s = 0; s < sizes.size(); ++s)
    if (sizes[s] > 0) visit.push_back(s);
  std::stable_sort(visit.begin(), visit.end(), [&](size_t a, size_t b) { return sizes[a] < sizes[b]; });
  std::vector<int64_t> take(sizes.size(), 0);
  int64_t rest = budget;
  int64_t strata_left = static_cast<int64_t>(visit.size());
  for (size_t s : visit) {
    take[s] = std::min(sizes[s], rest / strata_left);
    rest -= take[s];
    --strata_left;
  }
  return take;
}

OrderedPicks order_by_scores(const std::vector<float>& scores, int64_t budget, ScoreOrder order, double prune_hardest,
                             int64_t bins, Rng& rng, const std::vector<int64_t>& excluded) {
  const int64_t n = static_cast<int64_t>(scores.size());
  SUBSET_CHECK_PARAM(prune_hardest >= 0 && prune_hardest < 1, "prune-hardest",
               "prune fraction must be in [0, 1), got " << prune_hardest);
  SUBSET_CHECK_PARAM(bins >= 1, "bins", "bins must be at least 1, got " << bins);
  std::vector<char> open(static_cast<size_t>(n), 1);
  for (int64_t e : excluded) open[static_cast<size_t>(e)] = 0;
  const int64_t n_open = n - static_cast<int64_t>(excluded.size());
  SUBSET_CHECK_PARAM(budget >= 0 && budget <= n_open, "budget",
               "budget " << budget << " exceeds the " << n_open << " points not yet selected");

  // Hardest first; equal scores in the order of a random permutation.
  std::vector<int64_t> tiebreak(static_cast<size_t>(n));
  std::iota(tiebreak.begin(), tiebreak.end(), int64_t{0});
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(tiebreak[static_cast<size_t>(i)], tiebreak[rng.uniform_index(static_cast<uint64_t>(i) + 1)]);
  std::vector<int64_t> ranked;
  ranked.reserve(static_cast<size_t>(n_open));
  for (int64_t i = 0; i < n; ++i)
    if (open[static_cast<size_t>(i)]) ranked.push_back(i);
  std::sort(ranked.begin(), ranked.end(), [&](int64_t a, int64_t b) {
    const float sa = scores[static_cast<size_t>(a)], sb = scores[static_cast<size_t>(b)];
    return sa != sb ? sa > sb : tiebreak[static_cast<size_t>(a)] < tiebreak[static_cast<size_t>(b)];
  });

  OrderedPicks out;
  out.pruned = std::min(static_cast<int64_t>(std::floor(prune_hardest * static_cast<double>(n_open))), n_open - budget);
  const auto first = ranked.begin() + out.pruned;  // the points that remain, hardest first
  switch (order) {
    case ScoreOrder::Hardest:
      out.indices.assign(first, first + budget);
      break;
    case ScoreOrder::Easiest:
      out.indices.assign(ranked.rbegin(), ranked.rbegin() + budget);
      break;
    case ScoreOrder::Coverage: {
      if (budget == 0) break;
      const double hi = scores[static_cast<size_t>(*first)];
      const double lo = scores[static_cast<size_t>(ranked.back())];
      std::vector<std::vector<int64_t>> strata(static_cast<size_t>(bins));
      for (auto it = ranked.end(); it != first;) {  // lowest score first: each stratum in ascending score
        const int64_t i = *--it;
        int64_t b = 0;
        if (hi > lo) {
          b = static_cast<int64_t>(std::floor((scores[static_cast<size_t>(i)] - lo) / (hi - lo) * static_cast<double>(bins)));
          b = std::clamp<int64_t>(b, 0, bins - 1);
        }
        strata[static_cast<size_t>(b)].push_back(i);
      }
      std::vector<int64_t> sizes;
      for (const auto& s : strata) {
        sizes.push_back(static_cast<int64_t>(s.size()));
        out.strata += s.empty() ? 0 : 1;
      }
      const std::vector<int64_t> take = coverage_allocation(sizes, budget);
      std::vector<std::vector<int64_t>> picks(strata.size());
      for (size_t s = 0; s < strata.size(); ++s) {
        if (take[s] == 0) continue;
        Rng stratum_rng = rng.fork(s);
        for (int64_t r : sample_without_replacement(sizes[s], take[s], stratum_rng))
          picks[s].push_back(strata[s][static_cast<size_t>(r)]);
      }
      out.indices = interleave(picks);
      break;
    }
  }
  return out;
}

}  // namespace subset::select
