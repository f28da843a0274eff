#pragma once
// The randomized range finder of Halko, Martinsson and Tropp (2011), by subspace iteration, and the
// Rayleigh-Ritz step after it: PCA's randomized solver and k-center's sketch basis.
#include <Eigen/Core>
#include <cstdint>
#include <functional>

namespace subset::linalg {

// An orthonormal basis of the columns of y (thin Householder QR).
Eigen::MatrixXd orthonormal_basis(const Eigen::MatrixXd& y);

// Q = orthonormal_basis(start) (or `start` as it is, when !orthonormalize_start); then `rounds`
// times Q = orthonormal_basis(times(Q)), calling on_round(r) (when set) before round r >= 1.
// `times` applies the operator whose range is sought (A^T A, or a covariance, for PCA) to a
// d x l basis. The caller draws `start`: its random numbers are its own.
Eigen::MatrixXd randomized_range(const std::function<Eigen::MatrixXd(const Eigen::MatrixXd&)>& times,
                                 const Eigen::MatrixXd& start, int64_t rounds, bool orthonormalize_start,
                                 const std::function<void(int64_t)>& on_round = {});

// Rayleigh-Ritz: the eigenpairs of the symmetric l x l matrix t = Q^T A Q (its lower triangle is
// read), by decreasing eigenvalue, with their Ritz vectors q * eigenvectors (d x l).
struct RitzPairs {
  Eigen::VectorXd values;
  Eigen::MatrixXd vectors;
};
RitzPairs rayleigh_ritz(const Eigen::MatrixXd& q, const Eigen::MatrixXd& t);

}  // namespace subset::linalg
