// The k-means selector: options, kmeans_fit (seeding, then Lloyd) and the selection it returns.
#include "libsubset/select/kmeans.h"

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <limits>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/blas_info.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/kmeans.h"
#include "libsubset/select/internal/kmeans_streamed.h"
#include "libsubset/select/sampling.h"

namespace subset::select {
using namespace kmeans_internal;

namespace kmeans_internal {

void check_shape(int64_t n, int64_t d, const std::vector<int64_t>& fixed, int64_t k) {
  SUBSET_CHECK(n > 0 && d > 0, "kmeans", "no points");
  SUBSET_CHECK(n <= std::numeric_limits<int32_t>::max() && d <= std::numeric_limits<int32_t>::max(), "kmeans",
               "at most 2^31 - 1 points and dimensions");
  for (int64_t f : fixed) SUBSET_CHECK(f >= 0 && f < n, "already selected", "index " << f << " out of range");
  SUBSET_CHECK_PARAM(k >= 1 && k + static_cast<int64_t>(fixed.size()) <= n, "budget",
               "k-means needs 1 <= k <= " << n - static_cast<int64_t>(fixed.size()) << ", got " << k);
}

double value_limit(int64_t d) { return std::sqrt(static_cast<double>(FLT_MAX) / (16.0 * static_cast<double>(d))); }

void check_input(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k) {
  check_shape(x.rows(), x.cols(), fixed, k);
  geometry::check_values(x.data(), x.rows(), x.cols(), value_limit(x.cols()), "kmeans");
}

void check_options(const KMeansOptions& o) {
  SUBSET_CHECK(o.iterations >= 1, "iterations", "must be >= 1, got " << o.iterations);
  SUBSET_CHECK(o.local_trials >= 0, "local-trials", "must be >= 0, got " << o.local_trials);
  SUBSET_CHECK(o.tolerance >= 0.0, "tolerance", "must be >= 0, got " << o.tolerance);
}

void labels_from_seeding(const SeedRun& sr, int64_t fixed, int64_t k, std::vector<int32_t>& label,
                         std::vector<double>& dist) {
  const auto F = static_cast<int32_t>(fixed);
  const auto K = static_cast<int32_t>(k);
  const size_t n = sr.owner.size();
  label.resize(n);
  dist.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const int32_t o = sr.owner[i];
    label[i] = o < F ? K + o : o - F;
    dist[i] = sr.d2[i];
  }
}

}  // namespace kmeans_internal

int64_t KMeansOptions::trials() const {
  if (local_trials > 0) return local_trials;
  return 2 + static_cast<int64_t>(std::floor(std::log(static_cast<double>(std::max<int64_t>(k, 1)))));
}

KMeansOptions KMeansOptions::from_params(const ParamMap& p, int64_t k) {
  KMeansOptions o;
  o.k = k;
  o.iterations = p.get_int("iterations");
  o.init = p.get_string("init") == "random" ? KMeansInit::Random : KMeansInit::PlusPlus;
  o.local_trials = p.get_int("local-trials");
  o.tolerance = p.get_float("tolerance");
  return o;
}

KMeansResult kmeans_fit(MatrixViewF x, const std::vector<int64_t>& fixed, const KMeansOptions& o,
                        const RunContext& context) {
  const int64_t n = x.rows(), k = o.k;
  check_input(x, fixed, k);
  check_options(o);
  Rng rng(context.seed);
  BlasSingleThread single;
  std::vector<int32_t> label;
  std::vector<double> dist;
  std::vector<int64_t> initial;
  // Progress is weighted by cost: a k-means++ seeding step updates the N x d distances to one new
  // centre (one unit); a Lloyd iteration computes N x k x d of them (k units, until the first one is
  // timed: run_lloyd). Counting both as one showed "1001/1020 (98%)" after seeding with minutes of
  // Lloyd still to run.
  int64_t done = 0, total = o.iterations * k;
  int64_t seeding_distances = 0, seeding_brute = 0;
  const auto started = std::chrono::steady_clock::now();
  if (o.init == KMeansInit::PlusPlus) {
    total += k;
    SeedRun sr = run_seeding(x, k, o.trials(), fixed, rng, &context, total);
    initial = std::move(sr.seeds);
    seeding_distances = sr.distances;
    seeding_brute = sr.brute;
    labels_from_seeding(sr, static_cast<int64_t>(fixed.size()), k, label, dist);
    done = k;
  } else {
    std::vector<int64_t> excluded = fixed;
    std::sort(excluded.begin(), excluded.end());
    initial = sample_without_replacement(n - static_cast<int64_t>(excluded.size()), k, rng);
    rank_to_index(initial, excluded);
  }
  RowMatrixF centroids(k, x.cols());
  for (int64_t j = 0; j < k; ++j)
    std::copy_n(x.data() + initial[sz(j)] * x.cols(), x.cols(), centroids.row(j).data());
  KMeansResult res = run_lloyd(x, fixed, centroids, std::move(label), std::move(dist), o.iterations, o.tolerance,
                               context, done, total,
                               std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  res.initial = std::move(initial);
  res.seeding_distances = seeding_distances;
  res.seeding_distances_brute = seeding_brute;
  return res;
}

// ---------------------------------------------------------------------------------------------

ParamSchema KMeansSelector::params() {
  ParamSchema s("kmeans");
  s.add_int("iterations", 20, "Lloyd iterations (assign every point, move every centroid to its cluster's mean), at most",
            1)
      .add_choice("init", "k-means++",
                  "initial centroids: k-means++ seeding, or k distinct points drawn uniformly",
                  {"k-means++", "random"})
      .add_int("local-trials", 0,
               "k-means++ candidates drawn per centre, keeping the one that lowers the objective most "
               "(0: 2 + floor(ln k), as scikit-learn; 1: plain k-means++)",
               0, 1000)
      .add_float("tolerance", 0.0,
                 "stop when an iteration lowers the inertia by at most this fraction of it (0: only when the "
                 "assignment repeats)",
                 at_least(0.0), less_than(1.0));
  return s;
}

KMeansSelector::KMeansSelector(const ParamMap& p) : options_(KMeansOptions::from_params(p, 1)) {}

KMeansResult KMeansSelector::fit(const SelectionRequest& request, const RunContext& context) const {
  KMeansOptions o = options_;
  o.k = request.budget;
  if (request.streamed()) {
    const RowBlocks& rows = *request.on_disk;
    SUBSET_CHECK(rows.n() == request.n && rows.dim() == request.dim, "kmeans",
                 "features on disk are " << rows.n() << " x " << rows.dim() << ", the request " << request.n << " x "
                                         << request.dim);
    return kmeans_fit_streamed(rows, request.already_selected, o, context);
  }
  SUBSET_CHECK(request.has_features() && request.dim >= 1, "kmeans", "method needs features");
  return kmeans_fit(request.feature_view(), request.already_selected, o, context);
}

Selection KMeansSelector::to_selection(const KMeansResult& r) {
  Selection out;
  out.indices = r.representatives;
  out.weights.reserve(r.cluster_sizes.size());
  for (int64_t c : r.cluster_sizes) out.weights.push_back(static_cast<float>(c));
  out.centroids = r.centroids;
  out.stats["inertia"] = r.inertia;
  out.stats["initial_inertia"] = r.initial_inertia;
  out.stats["iterations"] = r.iterations;
  out.stats["converged"] = r.converged;
  out.stats["relocated_clusters"] = r.relocated;
  out.stats["seeding_distances"] = r.seeding_distances;
  out.stats["seeding_distances_brute_force"] = r.seeding_distances_brute;
  out.stats["representative_full_scans"] = r.representative_scans;
  out.stats["assignments_skipped"] = r.points_skipped;
  out.stats["blas"] = linalg::blas_info().summary();
  return out;
}

Selection KMeansSelector::select(const SelectionRequest& request, const RunContext& context) const {
  return to_selection(fit(request, context));
}

namespace kmeans_detail {
double sq_dist_below(const float* a, const float* b, int64_t dim, double bound) {
  return linalg::sq_dist_below(a, b, dim, bound);
}
}  // namespace kmeans_detail

}  // namespace subset::select