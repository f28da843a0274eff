// Tests for libsubset/linalg/range_finder.h: the basis is orthonormal (Q^T Q = I), it captures the
// range of a low-rank operator, the rounds run as documented, and Rayleigh-Ritz orders by value.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/linalg/range_finder.h"

using namespace subset::linalg;

namespace {

Eigen::MatrixXd gaussian(int64_t rows, int64_t cols, uint64_t seed) {
  subset::Rng rng(seed);
  Eigen::MatrixXd m(rows, cols);
  for (int64_t j = 0; j < cols; ++j)
    for (int64_t i = 0; i < rows; ++i) m(i, j) = rng.normal();
  return m;
}

}  // namespace

TEST_CASE("linalg: the randomized range finder returns an orthonormal basis of a low-rank range") {
  const int64_t d = 40, rank = 5, l = 8;
  const Eigen::MatrixXd b = gaussian(d, rank, 1);
  const Eigen::MatrixXd a = b * b.transpose();  // symmetric, rank 5
  int calls = 0;
  std::vector<int64_t> rounds;
  const auto times = [&](const Eigen::MatrixXd& q) {
    ++calls;
    return Eigen::MatrixXd(a * q);
  };
  for (bool orthonormalize_start : {true, false}) {
    calls = 0;
    rounds.clear();
    const Eigen::MatrixXd q = randomized_range(times, gaussian(d, l, 2), 3, orthonormalize_start,
                                               [&](int64_t r) { rounds.push_back(r); });
    CHECK(calls == 3);
    CHECK(rounds == std::vector<int64_t>{1, 2});
    REQUIRE(q.rows() == d);
    REQUIRE(q.cols() == l);
    CHECK((q.transpose() * q - Eigen::MatrixXd::Identity(l, l)).norm() < 1e-12);
    // the range of a is inside the span of q
    CHECK((a - q * (q.transpose() * a)).norm() < 1e-9 * a.norm());
  }
}

TEST_CASE("linalg: rayleigh_ritz orders the pairs by decreasing value") {
  const int64_t d = 12, l = 4;
  const Eigen::MatrixXd q = orthonormal_basis(gaussian(d, l, 3));
  Eigen::VectorXd diag(l);
  diag << 1.0, 4.0, 2.0, 3.0;
  const Eigen::MatrixXd t = diag.asDiagonal();
  const RitzPairs r = rayleigh_ritz(q, t);
  REQUIRE(r.values.size() == l);
  CHECK(r.values(0) == doctest::Approx(4.0));
  CHECK(r.values(1) == doctest::Approx(3.0));
  CHECK(r.values(3) == doctest::Approx(1.0));
  // the first Ritz vector is q's second column (up to sign)
  CHECK(std::abs(r.vectors.col(0).dot(q.col(1))) == doctest::Approx(1.0));
  CHECK((r.vectors.transpose() * r.vectors - Eigen::MatrixXd::Identity(l, l)).norm() < 1e-12);
}
