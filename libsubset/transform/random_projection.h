#pragma once
// Random projections (docs/methods/compression.md): y = R x with a random K x D matrix R drawn
// from Rng(seed) (row k from Rng(seed).fork(k), so the matrix is the same on any platform and
// thread count), with scikit-learn's scaling conventions:
//   gaussian-rp  R_kj ~ N(0, 1/K)                                 (GaussianRandomProjection)
//   sparse-rp    R_kj = +-sqrt(1 / (density K)) with probability density/2 each, 0 otherwise
//                (SparseRandomProjection; Achlioptas 2003 for density 1/3, Li, Hastie and Church
//                2006 for the default density 1/sqrt(D))
// Both keep squared distances unbiased: E ||R u||^2 = ||u||^2. The data only sets D; fitting
// draws R. Saved arrays: components [K, D] (R itself).
#include "libsubset/core/params.h"
#include "libsubset/transform/transform.h"

namespace subset::transform {

class RandomProjection : public Transform {
 public:
  enum class Kind { Gaussian, Sparse };
  static ParamSchema gaussian_params();
  static ParamSchema sparse_params();

  RandomProjection(Kind kind, const ParamMap& params);

  std::string_view name() const override { return kind_ == Kind::Gaussian ? "gaussian-rp" : "sparse-rp"; }
  int64_t input_dim() const override { return d_; }
  int64_t output_dim() const override { return k_; }
  void fit(const RowSource& rows, const FitOptions& options) override;
  using Transform::apply;
  void apply(MatrixViewF rows, float* out) const override;
  ModelState save() const override;
  void load(const ModelState& state, const std::string& where) override;

  // The density a sparse projection of D inputs uses: the parameter, or 1/sqrt(D) when it is 0.
  static double effective_density(double density_param, int64_t d);

 private:
  Kind kind_;
  double density_param_ = 0;  // sparse: 0 = 1/sqrt(D)
  int64_t d_ = 0, k_ = 0;
  std::vector<float> components_;  // [K, D]
  nlohmann::json stats_ = nlohmann::json::object();
};

}  // namespace subset::transform
