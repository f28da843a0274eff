#include "libsubset/select/probcover.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <string>

#include "libsubset/core/interrupt.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/sampling.h"

namespace subset::select {

namespace probcover_detail {

std::pair<double, double> purity_delta(const KnnGraph& g, const std::vector<int32_t>& pseudo, double alpha) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> r(static_cast<size_t>(g.n), inf);
  for (int64_t x = 0; x < g.n; ++x)
    for (int64_t t = 0; t < g.k; ++t)
      if (pseudo[static_cast<size_t>(g.neighbours(x)[t])] != pseudo[static_cast<size_t>(x)]) {
        r[static_cast<size_t>(x)] = std::sqrt(g.distances(x)[t]);
        break;
      }
  std::vector<double> sorted = r;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const auto need = static_cast<int64_t>(std::ceil(alpha * static_cast<double>(g.n) - 1e-9));
  const double delta = sorted[static_cast<size_t>(std::clamp<int64_t>(need, 1, g.n) - 1)];
  const auto pure = std::count_if(r.begin(), r.end(), [&](double v) { return v >= delta; });
  return {delta, static_cast<double>(pure) / static_cast<double>(g.n)};
}

}  // namespace probcover_detail

namespace {

struct DeltaRule {
  double given;            // 0: by the purity rule
  double purity;           // alpha
  int64_t clusters;        // pseudo-label clusters; 0: the number of classes
  int64_t iterations;      // of that k-means
};

// The squared ball radius: delta as given, or by the purity rule (infinite when no delta keeps the
// balls pure enough: every graph edge then counts). `stats` gets purity, delta and delta_capped.
double squared_delta(const DeltaRule& rule, const SelectionRequest& request, const RunContext& context,
                     const KnnGraph& g, nlohmann::json& stats) {
  double delta = rule.given;
  if (delta == 0.0) {
    int64_t clusters = rule.clusters;
    if (clusters == 0) {
      SUBSET_CHECK_PARAM(request.labels, "purity-clusters",
                         "there are no labels to count the classes: give purity-clusters or delta");
      clusters = request.num_classes;
      for (int64_t l : *request.labels) clusters = std::max(clusters, l + 1);
    }
    KMeansOptions o;
    o.k = std::min(clusters, request.n);
    o.iterations = rule.iterations;
    const KMeansResult km = kmeans_fit(request.feature_view(), {}, o, context);
    const auto [d, pure] = probcover_detail::purity_delta(g, km.assignment, rule.purity);
    delta = d;
    stats["purity"] = pure;
  } else {
    stats["purity"] = nullptr;
  }
  const bool capped = std::isinf(delta);
  if (capped) {
    double largest = 0.0;
    for (double v : g.sq_distances) largest = std::max(largest, v);
    stats["delta"] = std::sqrt(largest);
  } else {
    stats["delta"] = delta;
  }
  stats["delta_capped"] = capped;
  return capped ? std::numeric_limits<double>::infinity() : delta * delta;
}

}  // namespace

ParamSchema ProbCoverSelector::params() {
  ParamSchema s("probcover");
  s.add_int("neighbours", 20, "k of the k-nearest-neighbour graph: a ball holds at most k + 1 points", 1, 1000)
      .add_float("delta", 0.0, "ball radius (Euclidean); 0: chosen by the purity rule", at_least(0.0))
      .add_float("purity", 0.95, "alpha of the purity rule: the fraction of balls that must stay pure",
                 greater_than(0.0), at_most(1.0))
      .add_int("purity-clusters", 0,
               "k-means clusters giving the pseudo-labels of the purity rule (0: the number of classes)", 0)
      .add_int("iterations", 20, "Lloyd iterations of that k-means, at most", 1)
      .add_choice("knn", "auto",
                  "k-NN search: exact, approximate (IVF, recall@20 about 0.99), or auto: exact up to " +
                      std::to_string(kKnnExactUpTo) + " points",
                  {"auto", "exact", "approximate"})
      .add_int("knn-probes", 0, "lists the approximate search scans per point (0: " + std::to_string(kKnnDefaultProbes) + ")", 0);
  return s;
}

ProbCoverSelector::ProbCoverSelector(const ParamMap& p)
    : neighbours_(p.get_int("neighbours")),
      delta_(p.get_float("delta")),
      purity_(p.get_float("purity")),
      purity_clusters_(p.get_int("purity-clusters")),
      iterations_(p.get_int("iterations")),
      knn_{parse_knn_search(p.get_string("knn")), 0, p.get_int("knn-probes")} {}

Selection ProbCoverSelector::select(const SelectionRequest& request, const RunContext& context) const {
  const int64_t n = request.n;
  SUBSET_CHECK(request.has_features() && request.dim >= 1, "probcover", "method needs features");
  const KnnGraph g = knn(request.features, n, request.dim, neighbours_, knn_);

  Selection out;
  const double delta2 = squared_delta(
      {delta_, purity_, purity_clusters_, iterations_}, request, context, g, out.stats);

  // ball(x) = x and its neighbours within delta; holders[y] = the x whose ball holds y.
  std::vector<int64_t> ball_start(static_cast<size_t>(n) + 1, 0), ball;
  for (int64_t x = 0; x < n; ++x) {
    ball.push_back(x);
    for (int64_t t = 0; t < g.k && g.distances(x)[t] < delta2; ++t) ball.push_back(g.neighbours(x)[t]);
    ball_start[static_cast<size_t>(x) + 1] = static_cast<int64_t>(ball.size());
  }
  std::vector<int64_t> holder_start(static_cast<size_t>(n) + 1, 0), holders(ball.size());
  for (int64_t y : ball) ++holder_start[static_cast<size_t>(y) + 1];
  for (int64_t y = 0; y < n; ++y) holder_start[static_cast<size_t>(y) + 1] += holder_start[static_cast<size_t>(y)];
  {
    std::vector<int64_t> fill(holder_start.begin(), holder_start.end() - 1);
    for (int64_t x = 0; x < n; ++x)
      for (int64_t j = ball_start[static_cast<size_t>(x)]; j < ball_start[static_cast<size_t>(x) + 1]; ++j)
        holders[static_cast<size_t>(fill[static_cast<size_t>(ball[static_cast<size_t>(j)])]++)] = x;
  }

  std::vector<int64_t> gain(static_cast<size_t>(n));
  for (int64_t x = 0; x < n; ++x) gain[static_cast<size_t>(x)] = ball_start[static_cast<size_t>(x) + 1] - ball_start[static_cast<size_t>(x)];
  std::vector<char> covered(static_cast<size_t>(n), 0), taken(static_cast<size_t>(n), 0);
  int64_t covered_count = 0;
  auto cover = [&](int64_t x) {
    for (int64_t j = ball_start[static_cast<size_t>(x)]; j < ball_start[static_cast<size_t>(x) + 1]; ++j) {
      const int64_t y = ball[static_cast<size_t>(j)];
      if (covered[static_cast<size_t>(y)]) continue;
      covered[static_cast<size_t>(y)] = 1;
      ++covered_count;
      for (int64_t h = holder_start[static_cast<size_t>(y)]; h < holder_start[static_cast<size_t>(y) + 1]; ++h)
        --gain[static_cast<size_t>(holders[static_cast<size_t>(h)])];
    }
  };
  for (int64_t a : request.already_selected) {
    taken[static_cast<size_t>(a)] = 1;
    cover(a);
  }

  // Lazy greedy: gains only fall, so a popped entry whose gain is current is the maximum, and the
  // (gain, -index) order breaks ties to the lowest index.
  std::priority_queue<std::pair<int64_t, int64_t>> heap;
  for (int64_t x = 0; x < n; ++x)
    if (!taken[static_cast<size_t>(x)] && gain[static_cast<size_t>(x)] > 0) heap.emplace(gain[static_cast<size_t>(x)], -x);
  while (static_cast<int64_t>(out.indices.size()) < request.budget && !heap.empty()) {
    const auto [g_old, neg] = heap.top();
    heap.pop();
    const int64_t x = -neg;
    const int64_t now = gain[static_cast<size_t>(x)];
    if (taken[static_cast<size_t>(x)] || now == 0) continue;
    if (now != g_old) {
      heap.emplace(now, neg);
      continue;
    }
    taken[static_cast<size_t>(x)] = 1;
    out.indices.push_back(x);
    out.scores.push_back(static_cast<float>(now));
    cover(x);
    if (out.indices.size() % 256 == 0) check_interrupted();
  }

  const int64_t rest = request.budget - static_cast<int64_t>(out.indices.size());
  if (rest > 0) {
    std::vector<int64_t> excluded;
    for (int64_t x = 0; x < n; ++x)
      if (taken[static_cast<size_t>(x)]) excluded.push_back(x);
    Rng rng(context.seed);
    std::vector<int64_t> draws = sample_without_replacement(n - static_cast<int64_t>(excluded.size()), rest, rng);
    rank_to_index(draws, excluded);
    for (int64_t x : draws) {
      out.indices.push_back(x);
      out.scores.push_back(0.0f);
    }
  }
  out.stats["coverage"] = static_cast<double>(covered_count) / static_cast<double>(n);
  out.stats["knn"] = knn_stats(g);
  return out;
}

}  // namespace subset::select
