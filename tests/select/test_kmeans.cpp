// Tests for the kmeans method (libsubset/select/kmeans.h) against independent oracles: a plain
// brute-force k-means++ with the same random draws (identical centres), a plain Lloyd loop and
// FAISS's faiss::Clustering from the same initial centroids (objective within 1%), and a plain
// nearest-unused-point scan for the selection; plus weights, already-selected points, parameter
// errors, thread-count determinism and the generated parameter table in the docs.
#include <doctest/doctest.h>
#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/registry.h"
#include "support/files.h"

using namespace subset::select;
using subset::Error;
using subset::RowMatrixF;
using subset::Rng;

namespace {

// Gaussian blobs: `centres` means drawn with spread `spread`, unit noise around them.
RowMatrixF blobs(int64_t n, int64_t d, int64_t centres, double spread, uint64_t seed) {
  Rng rng(seed);
  RowMatrixF means(centres, d);
  for (int64_t c = 0; c < centres; ++c)
    for (int64_t j = 0; j < d; ++j) means(c, j) = static_cast<float>(spread * rng.normal());
  RowMatrixF x(n, d);
  for (int64_t i = 0; i < n; ++i) {
    const auto c = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(centres)));
    for (int64_t j = 0; j < d; ++j) x(i, j) = means(c, j) + static_cast<float>(rng.normal());
  }
  return x;
}

double dist(const RowMatrixF& x, int64_t i, const float* c) {
  return geometry::sq_dist_reference(x.row(i).data(), c, x.cols());
}

// The definition in kmeans.h, written as plainly as possible.
std::vector<int64_t> brute_kmeanspp(const RowMatrixF& x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed,
                                    uint64_t seed) {
  const int64_t n = x.rows();
  Rng rng(seed);
  std::vector<double> d2(static_cast<size_t>(n), std::numeric_limits<double>::infinity());
  std::vector<bool> centre(static_cast<size_t>(n), false);
  std::vector<int64_t> seeds;
  auto add = [&](int64_t c) {
    centre[static_cast<size_t>(c)] = true;
    for (int64_t i = 0; i < n; ++i) d2[static_cast<size_t>(i)] = std::min(d2[static_cast<size_t>(i)], dist(x, i, x.row(c).data()));
  };
  if (fixed.empty()) {
    const auto c0 = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(n)));
    add(c0);
    seeds.push_back(c0);
  } else {
    for (int64_t f : fixed) add(f);
  }
  while (static_cast<int64_t>(seeds.size()) < k) {
    double total = 0.0;
    for (double v : d2) total += v;
    if (total == 0.0) {
      std::vector<int64_t> open;
      for (int64_t i = 0; i < n; ++i)
        if (!centre[static_cast<size_t>(i)]) open.push_back(i);
      const int64_t c = open[rng.uniform_index(open.size())];
      add(c);
      seeds.push_back(c);
      continue;
    }
    std::vector<int64_t> cands;
    for (int64_t l = 0; l < trials; ++l) {
      const double u = rng.uniform01() * total;
      double cum = 0.0;
      int64_t pick = -1;
      for (int64_t i = 0; i < n && pick < 0; ++i) {
        cum += d2[static_cast<size_t>(i)];
        if (cum > u) pick = i;
      }
      cands.push_back(pick);
    }
    int64_t best = -1;
    double best_pot = 0.0;
    for (int64_t c : cands) {
      double pot = 0.0;
      for (int64_t i = 0; i < n; ++i) pot += std::min(d2[static_cast<size_t>(i)], dist(x, i, x.row(c).data()));
      if (best < 0 || pot < best_pot) {
        best = c;
        best_pot = pot;
      }
    }
    add(best);
    seeds.push_back(best);
  }
  return seeds;
}

// Plain Lloyd in double from the given centroids (no empty clusters expected); returns the
// inertia of the final centroids over all points.
double brute_lloyd(const RowMatrixF& x, RowMatrixF c, int64_t iterations, RowMatrixF* out = nullptr) {
  const int64_t n = x.rows(), d = x.cols(), k = c.rows();
  auto nearest = [&](int64_t i, double& best) {
    int64_t arg = 0;
    best = std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < k; ++j) {
      double s = 0.0;
      for (int64_t t = 0; t < d; ++t) {
        const double z = static_cast<double>(x(i, t)) - static_cast<double>(c(j, t));
        s += z * z;
      }
      if (s < best) {
        best = s;
        arg = j;
      }
    }
    return arg;
  };
  for (int64_t it = 0; it < iterations; ++it) {
    std::vector<double> sum(static_cast<size_t>(k * d), 0.0);
    std::vector<int64_t> cnt(static_cast<size_t>(k), 0);
    for (int64_t i = 0; i < n; ++i) {
      double b;
      const int64_t j = nearest(i, b);
      ++cnt[static_cast<size_t>(j)];
      for (int64_t t = 0; t < d; ++t) sum[static_cast<size_t>(j * d + t)] += x(i, t);
    }
    for (int64_t j = 0; j < k; ++j)
      if (cnt[static_cast<size_t>(j)] > 0)
        for (int64_t t = 0; t < d; ++t)
          c(j, t) = static_cast<float>(sum[static_cast<size_t>(j * d + t)] / static_cast<double>(cnt[static_cast<size_t>(j)]));
  }
  double inertia = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double b;
    nearest(i, b);
    inertia += b;
  }
  if (out) *out = c;
  return inertia;
}

// Nearest unused, non-fixed point for each centroid in order (kmeans.h's selection rule).
std::vector<int64_t> brute_representatives(const RowMatrixF& x, const RowMatrixF& c, const std::vector<int64_t>& fixed) {
  std::vector<bool> used(static_cast<size_t>(x.rows()), false);
  for (int64_t f : fixed) used[static_cast<size_t>(f)] = true;
  std::vector<int64_t> out;
  for (int64_t j = 0; j < c.rows(); ++j) {
    int64_t arg = -1;
    double best = 0.0;
    for (int64_t i = 0; i < x.rows(); ++i) {
      if (used[static_cast<size_t>(i)]) continue;
      const double e = dist(x, i, c.row(j).data());
      if (arg < 0 || e < best) {
        arg = i;
        best = e;
      }
    }
    used[static_cast<size_t>(arg)] = true;
    out.push_back(arg);
  }
  return out;
}

RowMatrixF rows_of(const RowMatrixF& x, const std::vector<int64_t>& idx) {
  RowMatrixF c(static_cast<int64_t>(idx.size()), x.cols());
  for (size_t j = 0; j < idx.size(); ++j) c.row(static_cast<int64_t>(j)) = x.row(idx[j]);
  return c;
}

SelectionRequest request_of(const RowMatrixF& x, int64_t budget, std::vector<int64_t> already = {}) {
  SelectionRequest r;
  r.n = x.rows();
  r.dim = x.cols();
  r.features = x.data();
  r.budget = budget;
  r.already_selected = std::move(already);
  return r;
}

std::unique_ptr<Selector> kmeans(const std::map<std::string, std::string>& given = {}) {
  return make_selector("kmeans", method("kmeans").params.resolve(given));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("no subset::Error thrown");
  return {};
}

}  // namespace

TEST_CASE("kmeans: the early-exit distance is geometry's sq_dist bit for bit below its bound") {
  Rng rng(5);
  for (int64_t dim : {1, 7, 16, 31, 255, 256, 257, 784, 1000}) {
    std::vector<float> a(static_cast<size_t>(dim)), b(static_cast<size_t>(dim));
    for (int rep = 0; rep < 20; ++rep) {
      for (int64_t j = 0; j < dim; ++j) {
        a[static_cast<size_t>(j)] = static_cast<float>(rng.normal() * 3.0);
        b[static_cast<size_t>(j)] = static_cast<float>(rng.normal());
      }
      const double ref = geometry::sq_dist_reference(a.data(), b.data(), dim);
      CHECK(kmeans_detail::sq_dist_below(a.data(), b.data(), dim, std::numeric_limits<double>::infinity()) == ref);
      CHECK(kmeans_detail::sq_dist_below(a.data(), b.data(), dim, std::nextafter(ref, 1e300)) == ref);
      for (double f : {0.0, 0.1, 0.5, 0.9, 1.0})
        CHECK(kmeans_detail::sq_dist_below(a.data(), b.data(), dim, f * ref) >= f * ref);
    }
  }
}

TEST_CASE("kmeans: k-means++ seeding is exactly the brute-force loop (plain and greedy, with fixed points)") {
  for (uint64_t seed : {1u, 2u, 3u, 4u, 5u}) {
    const RowMatrixF x = blobs(700, 20, 12, 3.0, 100 + seed);
    for (int64_t trials : {int64_t{1}, int64_t{3}, 2 + static_cast<int64_t>(std::log(40.0))}) {
      Rng rng(seed);
      const auto ours = kmeanspp_seeds(subset::view(x), 40, trials, {}, rng);
      CHECK(ours == brute_kmeanspp(x, 40, trials, {}, seed));
      const std::vector<int64_t> fixed = {5, 77, 300};
      Rng rng2(seed);
      CHECK(kmeanspp_seeds(subset::view(x), 25, trials, fixed, rng2) == brute_kmeanspp(x, 25, trials, fixed, seed));
    }
  }
}

TEST_CASE("kmeans: seeding with duplicate points, up to every distinct point and beyond") {
  // 30 distinct points, each repeated 4 times: from the 31st centre on, every point coincides with
  // a centre and the uniform rule takes over.
  const RowMatrixF base = blobs(30, 5, 30, 1.0, 9);
  RowMatrixF x(120, 5);
  for (int64_t i = 0; i < 120; ++i) x.row(i) = base.row(i % 30);
  for (uint64_t seed : {1u, 2u, 3u}) {
    for (int64_t trials : {1, 4}) {
      Rng rng(seed);
      const auto ours = kmeanspp_seeds(subset::view(x), 50, trials, {}, rng);
      CHECK(ours == brute_kmeanspp(x, 50, trials, {}, seed));
      CHECK(std::set<int64_t>(ours.begin(), ours.end()).size() == ours.size());
    }
  }
}

TEST_CASE("kmeans: Lloyd matches a plain Lloyd loop and FAISS from the same initial centroids") {
  const RowMatrixF x = blobs(3000, 16, 40, 1.5, 21);  // overlapping blobs: many iterations matter
  const int64_t k = 30, iterations = 8;
  Rng rng(4);
  const RowMatrixF init = rows_of(x, kmeanspp_seeds(subset::view(x), k, 1, {}, rng));
  const KMeansResult ours = kmeans_lloyd(subset::view(x), init, {}, iterations, 0.0, RunContext{});
  REQUIRE(ours.relocated == 0);

  RowMatrixF brute_c;
  const double brute = brute_lloyd(x, init, ours.iterations, &brute_c);
  CHECK(ours.inertia == doctest::Approx(brute).epsilon(1e-4));
  CHECK((ours.centroids - brute_c).cwiseAbs().maxCoeff() < 1e-3f);

  faiss::ClusteringParameters cp;
  cp.niter = static_cast<int>(iterations);
  cp.max_points_per_centroid = 1 << 30;  // all points, no subsampling
  cp.min_points_per_centroid = 1;
  cp.verbose = false;
  faiss::Clustering clus(static_cast<int>(x.cols()), static_cast<int>(k), cp);
  clus.centroids.assign(init.data(), init.data() + init.size());
  faiss::IndexFlatL2 index(x.cols());
  clus.train(x.rows(), x.data(), index);
  RowMatrixF fc(k, x.cols());
  std::copy(clus.centroids.begin(), clus.centroids.end(), fc.data());
  const double faiss_inertia = brute_lloyd(x, fc, 0);  // faiss's final centroids, over all points
  MESSAGE("inertia: ours " << ours.inertia << ", plain Lloyd " << brute << ", faiss " << faiss_inertia);
  CHECK(ours.inertia <= faiss_inertia * 1.01);
  CHECK(ours.inertia >= faiss_inertia * 0.99);
  // the reported inertia is the sum over all points to the final centroids
  CHECK(ours.inertia == doctest::Approx(brute_lloyd(x, ours.centroids, 0)).epsilon(1e-5));
}

TEST_CASE("kmeans: the fit is k-means++ then Lloyd; inertia, assignment and sizes agree") {
  const RowMatrixF x = blobs(2000, 12, 25, 2.0, 31);
  KMeansOptions o;
  o.k = 20;
  o.iterations = 6;
  RunContext ctx;
  ctx.seed = 7;
  const KMeansResult r = kmeans_fit(subset::view(x), {}, o, ctx);
  Rng rng(7);
  CHECK(r.initial == kmeanspp_seeds(subset::view(x), 20, o.trials(), {}, rng));
  CHECK(o.trials() == 2 + static_cast<int64_t>(std::log(20.0)));
  const double brute = brute_lloyd(x, rows_of(x, r.initial), r.iterations);
  CHECK(r.inertia == doctest::Approx(brute).epsilon(1e-4));
  CHECK(r.inertia <= r.initial_inertia);
  CHECK(r.initial_inertia == doctest::Approx(brute_lloyd(x, rows_of(x, r.initial), 0)).epsilon(1e-6));
  REQUIRE(r.assignment.size() == 2000);
  std::vector<int64_t> sizes(20, 0);
  for (int32_t a : r.assignment) ++sizes[static_cast<size_t>(a)];
  CHECK(sizes == r.cluster_sizes);
  // every point is assigned to (one of) its nearest centroid(s)
  for (int64_t i = 0; i < x.rows(); i += 7) {
    const double mine = dist(x, i, r.centroids.row(r.assignment[static_cast<size_t>(i)]).data());
    for (int64_t j = 0; j < 20; ++j) CHECK(mine <= dist(x, i, r.centroids.row(j).data()) * (1 + 1e-4) + 1e-4);
  }
}

TEST_CASE("kmeans: Lloyd's bounds skip work but never a point's nearest centroid") {
  // More centroids than the bounded passes measure exactly, so that the drift bound is used.
  const RowMatrixF x = blobs(4000, 16, 150, 1.2, 91);
  const int64_t k = 120;
  Rng rng(6);
  const RowMatrixF init = rows_of(x, kmeanspp_seeds(subset::view(x), k, 1, {}, rng));
  for (int64_t iterations : {3, 7, 12}) {
    const KMeansResult r = kmeans_lloyd(subset::view(x), init, {}, iterations, 0.0, RunContext{});
    CHECK(r.points_skipped > 0);
    int64_t wrong = 0;
    for (int64_t i = 0; i < x.rows(); ++i) {
      const double mine = dist(x, i, r.centroids.row(r.assignment[static_cast<size_t>(i)]).data());
      for (int64_t j = 0; j < k; ++j) wrong += dist(x, i, r.centroids.row(j).data()) < mine * (1 - 1e-5) - 1e-6;
    }
    CHECK(wrong == 0);
    RowMatrixF brute_c;
    const double brute = brute_lloyd(x, init, r.iterations, &brute_c);
    CHECK(r.inertia == doctest::Approx(brute).epsilon(1e-4));
  }
}

TEST_CASE("kmeans: the selection is the nearest unused real point of each centroid, in centroid order") {
  const RowMatrixF x = blobs(500, 8, 10, 3.0, 41);
  SUBCASE("after a fit") {
    KMeansOptions o;
    o.k = 30;
    const KMeansResult r = kmeans_fit(subset::view(x), {}, o, RunContext{});
    CHECK(r.representatives == brute_representatives(x, r.centroids, {}));
  }
  SUBCASE("coinciding centroids: the later ones take the next nearest points") {
    // 3 centroids at one place, and 20 at another (more than the candidates kept per centroid,
    // which forces the full scan).
    RowMatrixF c(23, x.cols());
    for (int64_t j = 0; j < 3; ++j) c.row(j) = x.row(10);
    for (int64_t j = 3; j < 23; ++j) c.row(j) = 0.5f * (x.row(20) + x.row(30));
    const KMeansResult r = kmeans_lloyd(subset::view(x), c, {}, 0, 0.0, RunContext{});
    CHECK(r.representatives == brute_representatives(x, c, {}));
    CHECK(r.representatives[0] == 10);
    CHECK(r.representative_scans > 0);
    CHECK(std::set<int64_t>(r.representatives.begin(), r.representatives.end()).size() == 23);
  }
  SUBCASE("with already-selected points, which are never taken") {
    const std::vector<int64_t> fixed = {10, 11, 12, 13};
    RowMatrixF c(4, x.cols());
    for (int64_t j = 0; j < 4; ++j) c.row(j) = x.row(fixed[static_cast<size_t>(j)]);
    const KMeansResult r = kmeans_lloyd(subset::view(x), c, fixed, 0, 0.0, RunContext{});
    CHECK(r.representatives == brute_representatives(x, c, fixed));
    for (int64_t f : fixed) CHECK(std::find(r.representatives.begin(), r.representatives.end(), f) == r.representatives.end());
  }
}

TEST_CASE("kmeans: selector output, weights and already-selected points") {
  const RowMatrixF x = blobs(1500, 10, 15, 2.5, 51);
  const auto sel = kmeans();
  SUBCASE("without already-selected points the weights sum to n") {
    RunContext ctx;
    ctx.seed = 3;
    const Selection s = sel->select(request_of(x, 40), ctx);
    REQUIRE(s.indices.size() == 40);
    REQUIRE(s.weights.size() == 40);
    CHECK(std::set<int64_t>(s.indices.begin(), s.indices.end()).size() == 40);
    CHECK(std::accumulate(s.weights.begin(), s.weights.end(), 0.0) == 1500.0);
    CHECK(s.stats.at("inertia").get<double>() > 0.0);
    CHECK(s.stats.at("iterations").get<int64_t>() >= 1);
    CHECK(s.stats.at("iterations").get<int64_t>() <= 20);
    // the same as the fit behind it
    const KMeansResult r = static_cast<const KMeansSelector&>(*sel).fit(request_of(x, 40), ctx);
    CHECK(r.representatives == s.indices);
  }
  SUBCASE("already-selected points are clustered as fixed centres, never returned") {
    std::vector<int64_t> already;
    for (int64_t i = 0; i < 1500; i += 37) already.push_back(i);
    RunContext ctx;
    ctx.seed = 4;
    const auto req = request_of(x, 30, already);
    const KMeansResult r = static_cast<const KMeansSelector&>(*sel).fit(req, ctx);
    const Selection s = KMeansSelector::to_selection(r);
    REQUIRE(s.indices.size() == 30);
    for (int64_t a : already) CHECK(std::find(s.indices.begin(), s.indices.end(), a) == s.indices.end());
    // weights: points nearest a centroid; the rest are nearest a fixed point
    int64_t to_fixed = 0;
    for (int32_t a : r.assignment) to_fixed += a >= 30;
    CHECK(to_fixed >= static_cast<int64_t>(already.size()));
    CHECK(std::accumulate(s.weights.begin(), s.weights.end(), 0.0) == static_cast<double>(1500 - to_fixed));
    for (size_t s_ = 0; s_ < already.size(); ++s_) CHECK(r.assignment[static_cast<size_t>(already[s_])] >= 30);
    // the seeding started from the fixed points
    Rng rng(4);
    CHECK(r.initial == kmeanspp_seeds(subset::view(x), 30, KMeansOptions{30}.trials(), already, rng));
  }
  SUBCASE("budget equal to every open point") {
    const RowMatrixF small = blobs(40, 3, 4, 2.0, 5);
    const std::vector<int64_t> already = {0, 1, 2};
    const Selection s = sel->select(request_of(small, 37, already), RunContext{});
    std::set<int64_t> got(s.indices.begin(), s.indices.end());
    CHECK(got.size() == 37);
    for (int64_t a : already) CHECK(got.count(a) == 0);
  }
  SUBCASE("random init") {
    const auto rsel = kmeans({{"init", "random"}, {"iterations", "5"}});
    RunContext ctx;
    ctx.seed = 8;
    const Selection s = rsel->select(request_of(x, 25, {1, 2, 3}), ctx);
    CHECK(std::set<int64_t>(s.indices.begin(), s.indices.end()).size() == 25);
    CHECK(s.stats.at("iterations").get<int64_t>() <= 5);
    for (int64_t a : {1, 2, 3}) CHECK(std::find(s.indices.begin(), s.indices.end(), a) == s.indices.end());
  }
}

TEST_CASE("kmeans: an empty cluster moves to the farthest point") {
  const RowMatrixF x = blobs(400, 6, 5, 3.0, 61);
  RowMatrixF c(5, 6);
  for (int64_t j = 0; j < 4; ++j) c.row(j) = x.row(j * 50);
  c.row(4).setConstant(1000.0f);  // nobody's nearest
  const KMeansResult r = kmeans_lloyd(subset::view(x), c, {}, 3, 0.0, RunContext{});
  CHECK(r.relocated >= 1);
  CHECK(r.cluster_sizes[4] > 0);
  CHECK(r.inertia < brute_lloyd(x, c, 0));
}

TEST_CASE("kmeans: bad parameters are rejected naming the parameter") {
  const auto& schema = method("kmeans").params;
  CHECK(error_of([&] { schema.resolve({{"iterations", "0"}}); }).find("iterations") != std::string::npos);
  CHECK(error_of([&] { schema.resolve({{"iterations", "many"}}); }).find("iterations") != std::string::npos);
  CHECK(error_of([&] { schema.resolve({{"init", "forgy"}}); }).find("init") != std::string::npos);
  CHECK(error_of([&] { schema.resolve({{"local-trials", "-1"}}); }).find("local-trials") != std::string::npos);
  CHECK(error_of([&] { schema.resolve({{"tolerance", "-0.5"}}); }).find("tolerance") != std::string::npos);
  CHECK(error_of([&] { schema.resolve({{"clusters", "3"}}); }).find("clusters") != std::string::npos);
  subset::ParamMap p = schema.resolve({});
  p.set("iterations", int64_t{-3});
  CHECK(error_of([&] { make_selector("kmeans", p); }).find("iterations") != std::string::npos);
  // non-finite features are refused before any work, naming the row
  RowMatrixF x = blobs(50, 4, 2, 1.0, 1);
  x(17, 2) = std::numeric_limits<float>::quiet_NaN();
  CHECK(error_of([&] { kmeans()->select(request_of(x, 5), RunContext{}); }).find("row 17") != std::string::npos);
}

TEST_CASE("kmeans: the same seed gives the same result at 1 and 2 threads") {
  // Large enough that OpenBLAS and OpenMP both split the work.
  const RowMatrixF x = blobs(6000, 48, 60, 1.5, 71);
  for (const char* init : {"k-means++", "random"}) {
    const auto sel = kmeans({{"init", init}, {"iterations", "8"}});
    RunContext ctx;
    ctx.seed = 11;
    KMeansResult r[2];
    for (int t = 1; t <= 2; ++t) {
      subset::set_threads(t);
      r[t - 1] = static_cast<const KMeansSelector&>(*sel).fit(request_of(x, 50, {3, 4000}), ctx);
    }
    subset::set_threads(0);
    CHECK(r[0].initial == r[1].initial);
    CHECK(r[0].representatives == r[1].representatives);
    CHECK(r[0].assignment == r[1].assignment);
    CHECK(r[0].cluster_sizes == r[1].cluster_sizes);
    CHECK(r[0].centroids == r[1].centroids);
    CHECK(r[0].inertia == r[1].inertia);
    CHECK(r[0].iterations == r[1].iterations);
  }
}
