#include "libsubset/transform/random_projection.h"

#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/linalg/blas_info.h"
#include "libsubset/linalg/product.h"

namespace subset::transform {

ParamSchema RandomProjection::gaussian_params() { return ParamSchema("gaussian-rp"); }

ParamSchema RandomProjection::sparse_params() {
  ParamSchema s("sparse-rp");
  s.add_float("density", 0.0,
              "fraction of non-zero entries of the projection matrix; 0 = 1/sqrt(D) (Li et al.), 1/3 = Achlioptas",
              at_least(0.0), at_most(1.0));
  return s;
}

double RandomProjection::effective_density(double density_param, int64_t d) {
  return density_param > 0 ? density_param : 1.0 / std::sqrt(static_cast<double>(d));
}

RandomProjection::RandomProjection(Kind kind, const ParamMap& params) : kind_(kind) {
  if (kind_ == Kind::Sparse) density_param_ = params.get_float("density");
}

void RandomProjection::load(const ModelState& state, const std::string& where) {
  d_ = state.input_dim;
  k_ = state.output_dim;
  components_ = state.array("components", {k_, d_}, where).values;
  stats_ = state.stats;
}

void RandomProjection::fit(const RowSource& rows, const FitOptions& options) {
  d_ = rows.dim;
  k_ = options.dim;
  SUBSET_CHECK(k_ >= 1 && d_ >= 1, std::string(name()), "output dimension must be >= 1");
  components_.assign(static_cast<size_t>(k_ * d_), 0.0f);
  const Rng root(options.seed);
  int64_t nonzero = 0;
  const double density = effective_density(density_param_, d_);
  const double value = std::sqrt(1.0 / (density * static_cast<double>(k_)));
  const double scale = 1.0 / std::sqrt(static_cast<double>(k_));
  for (int64_t r = 0; r < k_; ++r) {
    Rng rng = root.fork(static_cast<uint64_t>(r));
    float* row = components_.data() + r * d_;
    for (int64_t j = 0; j < d_; ++j) {
      if (kind_ == Kind::Gaussian) {
        row[j] = static_cast<float>(rng.normal() * scale);
        continue;
      }
      const double u = rng.uniform01();
      if (u < density) {
        row[j] = static_cast<float>(u < density / 2 ? value : -value);
        ++nonzero;
      }
    }
  }
  stats_ = {{"blas", linalg::blas_info().summary()}};  // apply() runs on BLAS
  if (kind_ == Kind::Sparse) {
    stats_["density"] = density;
    stats_["nonzero_fraction"] = static_cast<double>(nonzero) / static_cast<double>(k_ * d_);
  }
}

void RandomProjection::apply(MatrixViewF rows, float* out) const {
  linalg::project(rows.data(), rows.rows(), d_, nullptr, components_.data(), k_, out);
}

ModelState RandomProjection::save() const {
  ModelState s;
  s.method = std::string(name());
  s.input_dim = d_;
  s.output_dim = k_;
  if (kind_ == Kind::Sparse) s.params["density"] = density_param_;
  s.stats = stats_;
  s.arrays["components"] = FloatArray{{k_, d_}, components_};
  return s;
}

}  // namespace subset::transform
