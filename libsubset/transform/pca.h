#pragma once
// Principal component analysis (docs/methods/compression.md): y = (x - mean) V^T, V the K leading
// eigenvectors of the sample covariance C = sum (x - mean)(x - mean)^T / (N - 1), as rows.
//
// Solvers (both stream the rows in blocks, so a store larger than memory can be fitted):
//   exact       one pass accumulates the mean and X^T X (float32 products of blocks of at most
//               2048 rows, summed in double, around a shift: the mean of the first block), then
//               LAPACK's dsyevr finds the K leading eigenpairs of the D x D covariance. Memory:
//               2 D^2 doubles (covariance_bytes). Needed for --variance (all eigenvalues).
//   randomized  Halko, Martinsson and Tropp (2011), on the covariance: a Gaussian D x (K + p) start
//               (p = oversamples) from Rng(seed), q power iterations Y = C Q, Q = qr(Y), each one
//               pass over the rows, then Rayleigh-Ritz: the eigenpairs of Q^T C Q. Memory: a few
//               D x (K + p) matrices. Passes: q + 2.
//   auto        exact when D <= kAutoExactMaxDim (or with --variance), else randomized.
// Sums in stripes: every pass sums its blocks in S = min(kFitStripes, blocks) stripes of
// consecutive blocks; each stripe's sums start from zero, and the total adds them in stripe
// order. The ranks of RowSource::comm share the stripes, and the arithmetic is the same whatever
// their number: every rank ends with the model one process fits, bit for bit.
// Sign: each component is flipped so that its entry of largest magnitude (the first such) is
// positive (scikit-learn's svd_flip with u_based_decision=False).
// Whitening divides each output by sqrt(explained variance), so every output has unit variance.
// Saved arrays: mean [D], components [K, D], explained_variance [K]; stats: the explained
// variances, their ratios to the total variance (trace C), the total and the solver used.
#include <vector>

#include "libsubset/core/params.h"
#include "libsubset/transform/transform.h"

namespace subset::transform {

inline constexpr int64_t kAutoExactMaxDim = 2048;
inline constexpr int64_t kFitStripes = 16;

class Pca : public Transform {
 public:
  static ParamSchema params();
  explicit Pca(const ParamMap& params);

  std::string_view name() const override { return "pca"; }
  int64_t input_dim() const override { return d_; }
  int64_t output_dim() const override { return k_; }
  void fit(const RowSource& rows, const FitOptions& options) override;
  using Transform::apply;
  void apply(MatrixViewF rows, float* out) const override;
  bool can_reconstruct() const override { return true; }
  void reconstruct(MatrixViewF codes, float* out) const override;
  ModelState save() const override;
  void load(const ModelState& state, const std::string& where) override;

  // The most bytes a fit on D features holds for its D x D sums (the exact solver's; the
  // randomized one's are D x (K + p)), on any rank of `ranks`: rank 0 (or one process) 2 D^2
  // doubles; a rank r > 0 keeps its stripes' partial sums (upper triangles) until the running
  // total reaches it, 1.5 D^2 + ceil(kFitStripes / ranks) D^2 / 2.
  static double covariance_bytes(int64_t d, int ranks);
  // "exact" or "randomized": what `solver` (exact|randomized|auto) means for D and a variance target.
  static std::string resolve_solver(const std::string& solver, int64_t d, bool by_variance);

 private:
  // Keeps the fit as the arrays save() writes (float32), then prepare().
  void set_fitted(const std::vector<double>& mean, const std::vector<std::vector<double>>& components,
                  const std::vector<double>& variances, double total_variance, const std::string& solver);
  // Derives the apply / reconstruct matrices from the saved arrays (after a fit and a load alike).
  void prepare(const std::string& where);

  std::string solver_ = "auto";
  bool whiten_ = false;
  int64_t power_iterations_ = 7;
  int64_t oversamples_ = 10;
  int64_t d_ = 0, k_ = 0;
  std::vector<float> mean_, components_, variance_;  // [D], [K, D], [K]
  nlohmann::json stats_ = nlohmann::json::object();
  std::vector<float> forward_, inverse_;  // [K, D]: components (whitened) and their inverse map
};

}  // namespace subset::transform
