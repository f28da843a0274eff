#include "libsubset/linalg/range_finder.h"

#include <Eigen/Eigenvalues>
#include <Eigen/QR>

namespace subset::linalg {

Eigen::MatrixXd orthonormal_basis(const Eigen::MatrixXd& y) {
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(y);
  return qr.householderQ() * Eigen::MatrixXd::Identity(y.rows(), y.cols());
}

Eigen::MatrixXd randomized_range(const std::function<Eigen::MatrixXd(const Eigen::MatrixXd&)>& times,
                                 const Eigen::MatrixXd& start, int64_t rounds, bool orthonormalize_start,
                                 const std::function<void(int64_t)>& on_round) {
  Eigen::MatrixXd q = orthonormalize_start ? orthonormal_basis(start) : start;
  for (int64_t r = 0; r < rounds; ++r) {
    if (r > 0 && on_round) on_round(r);
    q = orthonormal_basis(times(q));
  }
  return q;
}

RitzPairs rayleigh_ritz(const Eigen::MatrixXd& q, const Eigen::MatrixXd& t) {
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(t);  // ascending eigenvalues
  return {eig.eigenvalues().reverse(), q * eig.eigenvectors().rowwise().reverse()};
}

}  // namespace subset::linalg
