// Tests for libsubset/transform/random_projection.h: the matrix has the documented distribution,
// and pairwise distances survive within the Johnson-Lindenstrauss bound used by --eps.
//
// The statistical test: for a fixed pair, ||R(u - v)||^2 / ||u - v||^2 is chi^2_K / K for the
// Gaussian projection. With K = jl_min_dim(N, eps), Dasgupta and Gupta's bound makes the chance that
// one pair leaves [1 - eps, 1 + eps] at most 2/N^2, so fewer than one of the N(N-1)/2 pairs is
// expected outside per seed; Achlioptas (2003) proves the same bound for the sparse projection of
// density 1/3, and Li et al.'s density 1/sqrt(D) has it asymptotically (its ratio has the same
// mean and, on Gaussian data, nearly the same variance, 2/K + 3(sqrt(D) - 3)/(DK)). The tolerance:
// over 5 seeds, at most 5 pairs outside in all (the bound's expectation); the exact chi^2 tail at
// N = 200, eps = 0.5, K = 255 expects 0.008 per seed. And the mean ratio must be within 0.05 of 1
// (its standard deviation is about sqrt(2/K) / sqrt(N/2) = 0.009).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/transform/random_projection.h"
#include "libsubset/transform/registry.h"
#include "support/point_sets.h"

using namespace subset;
using namespace subset::transform;

namespace {

std::unique_ptr<Transform> projection(const std::string& method, int64_t d, int64_t k, uint64_t seed,
                                      std::map<std::string, std::string> params = {}) {
  auto t = create(method, transform::method(method).params.resolve(params));
  RowMatrixF dummy(1, d);
  dummy.setZero();
  FitOptions o;
  o.dim = k;
  o.seed = seed;
  t->fit(rows_of(view(dummy)), o);
  return t;
}

const std::vector<float>& components(const Transform& t, ModelState& keep) {
  keep = t.save();
  return keep.arrays.at("components").values;
}

}  // namespace

TEST_CASE("gaussian-rp entries are N(0, 1/K); the same seed gives the same matrix") {
  const int64_t d = 500, k = 80;
  ModelState s1, s2, s3;
  const auto& a = components(*projection("gaussian-rp", d, k, 3), s1);
  const auto& b = components(*projection("gaussian-rp", d, k, 3), s2);
  const auto& c = components(*projection("gaussian-rp", d, k, 4), s3);
  CHECK(a == b);
  CHECK(a != c);
  double sum = 0, sumsq = 0;
  for (float v : a) {
    sum += v;
    sumsq += static_cast<double>(v) * v;
  }
  const double n = static_cast<double>(a.size());
  // 40000 draws: the sample mean is within 4 sd (4 * sqrt(1/K / n) = 0.0022) of 0, the sample
  // variance within 4 sd (4 * sqrt(2/n) relative = 2.8%) of 1/K.
  CHECK(std::abs(sum / n) < 0.0022);
  CHECK(sumsq / n * k == doctest::Approx(1.0).epsilon(0.028));
}

TEST_CASE("sparse-rp entries: +-sqrt(1/(density K)) at the documented density, zero elsewhere") {
  const int64_t d = 900, k = 50;
  for (double density : {0.0, 1.0 / 3.0, 1.0}) {
    ModelState s;
    const auto& r = components(*projection("sparse-rp", d, k, 5, {{"density", std::to_string(density)}}), s);
    const double used = density > 0 ? density : 1.0 / 30.0;  // 1/sqrt(900)
    CHECK(s.stats["density"].get<double>() == doctest::Approx(used));
    const float value = static_cast<float>(std::sqrt(1.0 / (s.stats["density"].get<double>() * k)));
    int64_t nonzero = 0, positive = 0;
    for (float v : r) {
      CHECK((v == 0.0f || v == value || v == -value));
      nonzero += v != 0.0f;
      positive += v > 0.0f;
    }
    const double n = static_cast<double>(r.size());
    // Binomial(n, used): within 4 sd.
    CHECK(std::abs(static_cast<double>(nonzero) - used * n) <= 4 * std::sqrt(n * used * (1 - used)) + 1e-9);
    CHECK(std::abs(static_cast<double>(positive) - 0.5 * static_cast<double>(nonzero)) <=
          4 * std::sqrt(0.25 * static_cast<double>(nonzero)));
  }
}

TEST_CASE("jl_min_dim is Dasgupta-Gupta's bound, rounded up") {
  // scikit-learn's johnson_lindenstrauss_min_dim gives 663 and 11841 here (it truncates).
  CHECK(jl_min_dim(1000000, 0.5) == 664);
  CHECK(jl_min_dim(1000000, 0.1) == 11842);
  CHECK(jl_min_dim(200, 0.5) == 255);
  for (double eps : {0.05, 0.3, 0.9}) {
    const int64_t k = jl_min_dim(5000, eps);
    const double bound = 4 * std::log(5000.0) / (eps * eps / 2 - eps * eps * eps / 3);
    CHECK(static_cast<double>(k) >= bound);
    CHECK(static_cast<double>(k - 1) < bound);
  }
}

TEST_CASE("random projections keep pairwise distances within the JL bound on random data") {
  const int64_t n = 200, d = 2000;
  const double eps = 0.5;
  const int64_t k = jl_min_dim(n, eps);
  const std::vector<std::pair<std::string, std::string>> kinds = {
      {"gaussian-rp", ""}, {"sparse-rp", "0"}, {"sparse-rp", "0.3333333333333333"}};
  for (const auto& [method, density] : kinds) {
    int64_t outside = 0;
    for (uint64_t seed = 0; seed < 5; ++seed) {
      const test::Data data = test::gaussian(n, d, 100 + seed);
      std::map<std::string, std::string> params;
      if (!density.empty()) params["density"] = density;
      const auto t = projection(method, d, k, seed, params);
      const RowMatrixF y = t->apply(view(data.x.data(), n, d));
      const auto x = view(data.x.data(), n, d);
      int64_t pairs = 0;
      double ratio_sum = 0;
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = i + 1; j < n; ++j) {
          const double before = (x.row(i) - x.row(j)).cast<double>().squaredNorm();
          const double after = (y.row(i) - y.row(j)).cast<double>().squaredNorm();
          const double ratio = after / before;
          outside += ratio < 1 - eps || ratio > 1 + eps;
          ratio_sum += ratio;
          ++pairs;
        }
      INFO(method << " density " << density << " seed " << seed);
      CHECK(std::abs(ratio_sum / static_cast<double>(pairs) - 1.0) < 0.05);
    }
    INFO(method << " density " << density);
    CHECK(outside <= 5);
  }
}

TEST_CASE("random projections apply with the same bits at 1 and 2 threads and after save / load") {
  const test::Data data = test::gaussian(5000, 300, 9);
  const auto x = view(data.x.data(), 5000, 300);
  for (const char* method : {"gaussian-rp", "sparse-rp"}) {
    const auto t = projection(method, 300, 40, 1);
    set_threads(1);
    const RowMatrixF one = t->apply(x);
    set_threads(2);
    const RowMatrixF two = t->apply(x);
    set_threads(0);
    CHECK(one == two);
    CHECK(load(t->save())->apply(x) == one);
    CHECK_FALSE(t->can_reconstruct());
  }
}
