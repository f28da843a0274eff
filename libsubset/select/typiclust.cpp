#include "libsubset/select/typiclust.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

#include "libsubset/core/interrupt.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/knn.h"

namespace subset::select {

namespace typiclust_detail {

std::pair<size_t, double> most_typical(const float* x, int64_t d, const std::vector<int64_t>& rows, int64_t neighbours) {
  const auto r = static_cast<int64_t>(rows.size());
  const int64_t m = std::min(neighbours, r / 2);
  if (m == 0) return {0, std::numeric_limits<double>::infinity()};
  std::vector<float> gathered(static_cast<size_t>(r * d));
  for (int64_t j = 0; j < r; ++j) std::copy_n(x + rows[static_cast<size_t>(j)] * d, d, gathered.data() + j * d);
  // Exact at any cluster size: a typicality is a mean over few neighbours, which an approximate
  // search would bias upwards (a missed neighbour is replaced by a farther one).
  const KnnGraph g = knn(gathered.data(), r, d, m, KnnOptions{KnnSearch::Exact});
  size_t best = 0;
  double best_mean = std::numeric_limits<double>::infinity();
  for (int64_t j = 0; j < r; ++j) {
    double sum = 0.0;
    for (int64_t t = 0; t < m; ++t) sum += std::sqrt(g.distances(j)[t]);
    const double mean = sum / static_cast<double>(m);
    // Rows are in index order, so the strict comparison keeps the lowest index on ties.
    if (mean < best_mean) {
      best_mean = mean;
      best = static_cast<size_t>(j);
    }
  }
  return {best, best_mean > 0.0 ? 1.0 / best_mean : std::numeric_limits<double>::infinity()};
}

}  // namespace typiclust_detail

ParamSchema TypiclustSelector::params() {
  ParamSchema s("typiclust");
  s.add_int("neighbours", 20,
            "k of the typicality: inverse mean distance to the k nearest neighbours within the cluster "
            "(at most half the cluster's open points)",
            1, 1000)
      .add_int("iterations", 20, "Lloyd iterations of the k-means into budget + already-selected clusters, at most", 1)
      .add_choice("seeding", "auto",
                  "k-means++ seeding: greedy (2 + ln k candidates per centre, as kmeans and scikit-learn), plain "
                  "(one), or auto: greedy up to " + std::to_string(kTypiclustGreedyUpTo) + " clusters, plain beyond",
                  {"auto", "greedy", "plain"});
  return s;
}

TypiclustSelector::TypiclustSelector(const ParamMap& p)
    : neighbours_(p.get_int("neighbours")), iterations_(p.get_int("iterations")), seeding_(p.get_string("seeding")) {}

Selection TypiclustSelector::select(const SelectionRequest& request, const RunContext& context) const {
  const int64_t n = request.n, d = request.dim;
  SUBSET_CHECK(request.has_features() && d >= 1, "typiclust", "method needs features");
  KMeansOptions o;
  o.k = request.budget + static_cast<int64_t>(request.already_selected.size());
  o.iterations = iterations_;
  const bool greedy = seeding_ == "greedy" || (seeding_ == "auto" && o.k <= kTypiclustGreedyUpTo);
  o.local_trials = greedy ? 0 : 1;
  const KMeansResult km = kmeans_fit(request.feature_view(), {}, o, context);

  const auto k = static_cast<size_t>(o.k);
  std::vector<char> open(static_cast<size_t>(n), 1);
  std::vector<int64_t> existing(k, 0);
  for (int64_t a : request.already_selected) {
    open[static_cast<size_t>(a)] = 0;
    ++existing[static_cast<size_t>(km.assignment[static_cast<size_t>(a)])];
  }
  std::vector<std::vector<int64_t>> members(k);
  for (int64_t i = 0; i < n; ++i)
    if (open[static_cast<size_t>(i)]) members[static_cast<size_t>(km.assignment[static_cast<size_t>(i)])].push_back(i);
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (existing[a] != existing[b]) return existing[a] < existing[b];
    if (km.cluster_sizes[a] != km.cluster_sizes[b]) return km.cluster_sizes[a] > km.cluster_sizes[b];
    return a < b;
  });

  // The first visits need every cluster's typicality on all its open points: one cluster per
  // thread (each search single-threaded: the same result at any thread count).
  const auto first = static_cast<int64_t>(std::min<size_t>(k, static_cast<size_t>(request.budget)));
  std::vector<std::pair<size_t, double>> first_pick(k, {0, 0.0});
  std::vector<char> ready(k, 0);
#pragma omp parallel
  {
    omp_set_num_threads(1);
#pragma omp for schedule(dynamic, 1)
    for (int64_t v = 0; v < first; ++v) {
      const size_t c = order[static_cast<size_t>(v)];
      if (members[c].empty() || interrupt_requested()) continue;
      first_pick[c] = typiclust_detail::most_typical(request.features, d, members[c], neighbours_);
      ready[c] = 1;
    }
  }
  check_interrupted();

  Selection out;
  while (static_cast<int64_t>(out.indices.size()) < request.budget) {
    for (size_t c : order) {
      if (static_cast<int64_t>(out.indices.size()) == request.budget) break;
      auto& rows = members[c];
      if (rows.empty()) continue;
      check_interrupted();
      const auto [at, typicality] =
          ready[c] ? first_pick[c] : typiclust_detail::most_typical(request.features, d, rows, neighbours_);
      ready[c] = 0;
      out.indices.push_back(rows[at]);
      out.scores.push_back(static_cast<float>(typicality));
      rows.erase(rows.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }
  out.stats["clusters"] = o.k;
  out.stats["inertia"] = km.inertia;
  out.stats["kmeans_iterations"] = km.iterations;
  return out;
}

}  // namespace subset::select
