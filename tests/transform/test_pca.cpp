// Tests for libsubset/transform/pca.h against an independent oracle: the SVD (Eigen's JacobiSVD,
// in double) of the centred data matrix, whose squared singular values / (N - 1) are the explained
// variances and whose right singular vectors are the components.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <cmath>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/transform/pca.h"
#include "libsubset/transform/registry.h"
#include "support/error_of.h"

using namespace subset;
using namespace subset::transform;

namespace {

// n points near a `rank`-dimensional subspace of R^d (scales 8, 4, 2, ...), plus small noise and
// a large offset (the centring must not lose precision to it).
RowMatrixF structured(int64_t n, int64_t d, int64_t rank, uint64_t seed, double offset = 5.0) {
  Rng rng(seed);
  Eigen::MatrixXd basis(rank, d);
  for (int64_t i = 0; i < rank; ++i)
    for (int64_t j = 0; j < d; ++j) basis(i, j) = rng.normal();
  RowMatrixF x(n, d);
  for (int64_t r = 0; r < n; ++r) {
    Eigen::RowVectorXd row = Eigen::RowVectorXd::Constant(d, offset);
    for (int64_t i = 0; i < rank; ++i) row += rng.normal() * std::ldexp(8.0, -static_cast<int>(i)) * basis.row(i);
    for (int64_t j = 0; j < d; ++j) x(r, j) = static_cast<float>(row(j) + 0.05 * rng.normal());
  }
  return x;
}

struct Oracle {
  Eigen::VectorXd variance;     // all, descending
  Eigen::MatrixXd components;   // rows
  Eigen::RowVectorXd mean;
  double total = 0;
};

Oracle svd_oracle(const RowMatrixF& x) {
  const Eigen::MatrixXd xd = x.cast<double>();
  Oracle o;
  o.mean = xd.colwise().mean();
  const Eigen::MatrixXd c = xd.rowwise() - o.mean;
  const Eigen::JacobiSVD<Eigen::MatrixXd> svd(c, Eigen::ComputeThinV);
  o.variance = svd.singularValues().array().square() / static_cast<double>(x.rows() - 1);
  o.components = svd.matrixV().transpose();
  o.total = o.variance.sum();
  return o;
}

ParamMap pca_params(const std::string& solver = "exact", bool whiten = false) {
  return Pca::params().resolve({{"solver", solver}, {"whiten", whiten ? "true" : "false"}});
}

Pca fitted(const RowMatrixF& x, int64_t k, const std::string& solver = "exact", bool whiten = false,
           int64_t block_rows = 8192) {
  Pca p(pca_params(solver, whiten));
  FitOptions o;
  o.dim = k;
  o.seed = 7;
  p.fit(rows_of(view(x), block_rows), o);
  return p;
}

// Each fitted component equals the oracle's up to sign, and carries our sign convention.
void check_components(const ModelState& s, const Oracle& o, double tolerance) {
  const auto& comps = s.arrays.at("components").values;
  for (int64_t c = 0; c < s.output_dim; ++c) {
    const Eigen::Map<const Eigen::VectorXf> v(comps.data() + c * s.input_dim, s.input_dim);
    const double dot = v.cast<double>().dot(o.components.row(c).transpose());
    CHECK(std::abs(std::abs(dot) - 1.0) < tolerance);
    Eigen::Index at;
    v.cwiseAbs().maxCoeff(&at);
    CHECK(v(at) > 0);
  }
}

}  // namespace

TEST_CASE("exact PCA matches the SVD oracle: variances, ratios, mean, components up to sign") {
  const RowMatrixF x = structured(400, 16, 5, 1);
  const Oracle o = svd_oracle(x);
  const Pca p = fitted(x, 4);
  const ModelState s = p.save();
  REQUIRE(s.output_dim == 4);
  const auto& ratios = s.stats["explained_variance_ratio"];
  for (int c = 0; c < 4; ++c) {
    CHECK(s.stats["explained_variance"][c].get<double>() == doctest::Approx(o.variance(c)).epsilon(1e-5));
    CHECK(std::abs(ratios[c].get<double>() - o.variance(c) / o.total) < 1e-6);
  }
  CHECK(s.stats["total_variance"].get<double>() == doctest::Approx(o.total).epsilon(1e-6));
  for (int j = 0; j < 16; ++j) CHECK(std::abs(s.arrays.at("mean").values[j] - o.mean(j)) < 1e-5);
  check_components(s, o, 1e-6);

  // The outputs are the centred rows projected on the components.
  const RowMatrixF y = p.apply(view(x));
  const Eigen::MatrixXd want = (x.cast<double>().rowwise() - o.mean) *
                               Eigen::Map<const RowMatrixF>(s.arrays.at("components").values.data(), 4, 16)
                                   .cast<double>()
                                   .transpose();
  CHECK((y.cast<double>() - want).cwiseAbs().maxCoeff() < 1e-4);
}

TEST_CASE("the randomized solver finds the same leading subspace as the exact one") {
  const RowMatrixF x = structured(600, 40, 6, 2);
  const Oracle o = svd_oracle(x);
  const Pca p = fitted(x, 5, "randomized");
  const ModelState s = p.save();
  CHECK(s.stats["solver"] == "randomized");
  for (int c = 0; c < 5; ++c)
    CHECK(std::abs(s.stats["explained_variance_ratio"][c].get<double>() - o.variance(c) / o.total) < 1e-6);
  check_components(s, o, 1e-5);
}

TEST_CASE("streaming in small blocks gives the same fit as one block") {
  const RowMatrixF x = structured(300, 12, 4, 3);
  const ModelState one = fitted(x, 3, "exact", false, 8192).save();
  const ModelState small = fitted(x, 3, "exact", false, 7).save();
  for (int c = 0; c < 3; ++c)
    CHECK(small.stats["explained_variance"][c].get<double>() ==
          doctest::Approx(one.stats["explained_variance"][c].get<double>()).epsilon(1e-6));
  const auto& a = one.arrays.at("components").values;
  const auto& b = small.arrays.at("components").values;
  for (size_t i = 0; i < a.size(); ++i) CHECK(std::abs(a[i] - b[i]) < 1e-5);
}

TEST_CASE("variance target keeps the fewest components reaching the fraction") {
  const RowMatrixF x = structured(300, 12, 6, 4);
  const Oracle o = svd_oracle(x);
  for (double v : {0.5, 0.9, 0.99, 1.0}) {
    int64_t want = 1;
    double sum = o.variance(0);
    while (want < 12 && sum < v * o.total) sum += o.variance(want++);
    Pca p(pca_params());
    FitOptions opt;
    opt.variance = v;
    p.fit(rows_of(view(x)), opt);
    CHECK(p.output_dim() == want);
  }
}

TEST_CASE("whitening: training outputs have zero mean and unit variance; reconstruct inverts") {
  const RowMatrixF x = structured(500, 10, 4, 5);
  const Pca p = fitted(x, 3, "exact", true);
  const RowMatrixF y = p.apply(view(x));
  const Eigen::MatrixXd yd = y.cast<double>();
  const Eigen::RowVectorXd mean = yd.colwise().mean();
  for (int c = 0; c < 3; ++c) {
    CHECK(std::abs(mean(c)) < 1e-4);
    const double var = (yd.col(c).array() - mean(c)).square().sum() / (x.rows() - 1);
    CHECK(var == doctest::Approx(1.0).epsilon(1e-4));
  }
  // All components: the reconstruction is the input.
  const Pca full = fitted(x, 10, "exact", true);
  RowMatrixF back(x.rows(), x.cols());
  full.reconstruct(view(full.apply(view(x))), back.data());
  CHECK((back - x).cwiseAbs().maxCoeff() < 1e-3);
}

TEST_CASE("whitening a component of zero variance is refused") {
  RowMatrixF x = structured(50, 6, 2, 6, 0.0);
  x.col(5).setConstant(1.0f);  // rank <= 5 after centring
  for (int64_t r = 0; r < x.rows(); ++r) x.row(r).head(5) = x.row(0).head(5) * static_cast<float>(r % 3);
  Pca p(pca_params("exact", true));
  FitOptions o;
  o.dim = 5;
  CHECK(test::error_of([&] { p.fit(rows_of(view(x)), o); }).message().find("cannot whiten") != std::string::npos);
}

TEST_CASE("save / load gives the same bits; fit and apply are the same at 1 and 2 threads") {
  const RowMatrixF x = structured(3000, 150, 5, 8);  // 3 panels of columns, 6 blocks of rows
  for (const char* solver : {"exact", "randomized"}) {
    INFO(solver);
    set_threads(1);
    const Pca one = fitted(x, 6, solver, false, 1000);
    const RowMatrixF y1 = one.apply(view(x));
    set_threads(2);
    const Pca two = fitted(x, 6, solver, false, 1000);
    const RowMatrixF y2 = two.apply(view(x));
    set_threads(0);
    CHECK(one.save().arrays.at("components").values == two.save().arrays.at("components").values);
    CHECK(one.save().stats == two.save().stats);
    CHECK(y1 == y2);
    const auto loaded = load(one.save());
    CHECK(loaded->apply(view(x)) == y1);
    RowMatrixF back1(x.rows(), x.cols()), back2(x.rows(), x.cols());
    one.reconstruct(view(y1), back1.data());
    loaded->reconstruct(view(y1), back2.data());
    CHECK(back1 == back2);
  }
}

TEST_CASE("auto solver: exact up to the documented dimension, or when choosing by variance") {
  CHECK(Pca::resolve_solver("auto", kAutoExactMaxDim, false) == "exact");
  CHECK(Pca::resolve_solver("auto", kAutoExactMaxDim + 1, false) == "randomized");
  CHECK(Pca::resolve_solver("auto", kAutoExactMaxDim + 1, true) == "exact");
  CHECK(Pca::resolve_solver("randomized", 10, false) == "randomized");
}
