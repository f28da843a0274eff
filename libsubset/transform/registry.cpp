#include "libsubset/transform/registry.h"

#include <atomic>
#include <cmath>
#include <limits>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/lookup.h"
#include "libsubset/transform/pca.h"
#include "libsubset/transform/random_projection.h"

namespace subset::transform {
namespace {

// One slot: the autoencoder is the only method with a provider (set_provider checks the name).
std::atomic<Provider> autoencoder_provider{nullptr};

// The autoencoder's parameters (its implementation, libsubset/nn/autoencoder.cpp, reads them).
ParamSchema autoencoder_params() {
  ParamSchema s("autoencoder");
  s.add_string("encoder", "256",
               "widths of the encoder's hidden layers, comma-separated, from the input side (D -> ... -> K); "
               "empty = none");
  s.add_string("decoder", "mirror",
               "widths of the decoder's hidden layers from the code side (K -> ... -> D); mirror = the encoder's "
               "reversed, empty = none");
  s.add_int("epochs", 20, "training epochs", 1, 100000);
  s.add_int("batch", 256, "batch size", 1);
  s.add_float("lr", 1e-3, "Adam learning rate", greater_than(0.0));
  s.add_choice("device", "cpu", "cpu, or cuda with a CUDA build of libtorch", {"cpu", "cuda"});
  return s;
}

MethodSpec entry(ParamSchema schema, std::string summary, bool variance, bool eps, bool torch, bool distributes = false) {
  std::string name = schema.owner();
  return MethodSpec{std::move(name), std::move(summary), variance, eps, torch, std::move(schema), distributes};
}

ParamValue value_from_json(const ParamSpec& spec, const nlohmann::json& j, const std::string& where) {
  try {
    switch (spec.type) {
      case ParamType::Bool: return j.get<bool>();
      case ParamType::Int: return j.get<int64_t>();
      case ParamType::Float: return j.get<double>();
      case ParamType::String:
      case ParamType::Choice: return j.get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  SUBSET_FAIL(where, "model parameter '" << spec.name << "' has a value of the wrong type: " << j.dump());
}

}  // namespace

const std::vector<MethodSpec>& methods() {
  static const std::vector<MethodSpec> table = {
      entry(RandomProjection::gaussian_params(), "Gaussian random projection, entries N(0, 1/K)", false, true, false),
      entry(RandomProjection::sparse_params(), "sparse random projection (Achlioptas; Li et al.)", false, true, false),
      entry(Pca::params(), "principal components (exact or randomized solver)", true, false, false, true),
      entry(autoencoder_params(), "undercomplete MLP autoencoder (libtorch); the encoder is the transform", false,
            false, true),
  };
  return table;
}

const MethodSpec& method(std::string_view name) { return find_by_name(methods(), name, "method"); }

int64_t jl_min_dim(int64_t n, double eps) {
  SUBSET_CHECK_PARAM(std::isfinite(eps) && eps > 0 && eps < 1, "eps", "eps must be in (0, 1), got " << eps);
  SUBSET_CHECK_PARAM(n >= 1, "eps", "needs at least one point");
  const double bound = 4.0 * std::log(static_cast<double>(n)) / (eps * eps / 2.0 - eps * eps * eps / 3.0);
  // A tiny eps makes the bound infinite; converting that to an integer is undefined (it gave K = 1).
  if (!(bound < 9.0e18)) return std::numeric_limits<int64_t>::max();
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(bound)));
}

FitOptions plan_fit(const MethodSpec& spec, const ParamMap& params, const Target& target, int64_t n, int64_t d) {
  const int given = target.dim.has_value() + target.variance.has_value() + target.eps.has_value();
  SUBSET_CHECK_PARAM(given == 1, "dim", "give exactly one of --dim, --variance and --eps");
  SUBSET_CHECK(n >= 1 && d >= 1, spec.name, "there are no rows to fit on");
  FitOptions out;
  if (target.dim) {
    const int64_t k = *target.dim;
    SUBSET_CHECK_PARAM(k >= 1, "dim", "output dimension must be at least 1, got " << k);
    SUBSET_CHECK_PARAM(k < d, "dim", "output dimension " << k << " must be below the input dimension " << d);
    out.dim = k;
  } else if (target.variance) {
    const double v = *target.variance;
    SUBSET_CHECK_PARAM(spec.takes_variance, "variance", "applies to pca only, not " << spec.name);
    SUBSET_CHECK_PARAM(std::isfinite(v) && v > 0 && v <= 1, "variance", "variance must be in (0, 1], got " << v);
    out.variance = v;
  } else {
    const double eps = *target.eps;
    SUBSET_CHECK_PARAM(spec.takes_eps, "eps", "applies to the random projections only, not " << spec.name);
    SUBSET_CHECK_PARAM(std::isfinite(eps) && eps > 0 && eps < 1, "eps", "eps must be in (0, 1), got " << eps);
    const int64_t k = jl_min_dim(n, eps);
    SUBSET_CHECK_PARAM(k < d, "eps",
                 "the Johnson-Lindenstrauss bound for " << n << " points at eps " << eps << " needs K = "
                                                        << (k == std::numeric_limits<int64_t>::max()
                                                                ? std::string("more than 9e18")
                                                                : std::to_string(k))
                                                        << ", not below the input dimension " << d
                                                        << " (a larger eps, or --dim)");
    out.dim = k;
  }
  if (spec.name == "pca") {
    SUBSET_CHECK(n >= 2, "pca", "needs at least 2 rows, got " << n);
    SUBSET_CHECK_PARAM(out.dim <= n, "dim", "pca finds at most N = " << n << " components, asked for " << out.dim);
    SUBSET_CHECK_PARAM(!out.variance || Pca::resolve_solver(params.get_string("solver"), d, true) == "exact", "variance",
                 "choosing K by explained variance needs all eigenvalues: use --solver exact or auto");
  }
  return out;
}

void set_provider(std::string_view name, Provider provider) {
  const MethodSpec& spec = method(name);
  SUBSET_CHECK(spec.needs_torch, spec.name, "is built in and takes no provider");
  autoencoder_provider.store(provider);
}

bool available(std::string_view name) {
  return !method(name).needs_torch || autoencoder_provider.load() != nullptr;
}

std::unique_ptr<Transform> create(std::string_view name, const ParamMap& params) {
  const MethodSpec& spec = method(name);
  spec.params.validate(params);
  if (spec.name == "gaussian-rp") return std::make_unique<RandomProjection>(RandomProjection::Kind::Gaussian, params);
  if (spec.name == "sparse-rp") return std::make_unique<RandomProjection>(RandomProjection::Kind::Sparse, params);
  if (spec.name == "pca") return std::make_unique<Pca>(params);
  const Provider provider = autoencoder_provider.load();
  SUBSET_CHECK(provider, spec.name,
               "needs libtorch: link libsubset_workflows_nn and call workflows::install_nn_providers() (the subset "
               "CLI does this itself)");
  return provider(params);
}

std::unique_ptr<Transform> load(const ModelState& state, const std::string& where) {
  const MethodSpec* spec = nullptr;
  for (const auto& m : methods())
    if (m.name == state.method) spec = &m;
  SUBSET_CHECK(spec, where, "model of unknown method '" << state.method << "'");
  SUBSET_CHECK(state.input_dim >= 1 && state.output_dim >= 1, where, "model has no dimensions");
  SUBSET_CHECK(state.params.is_object(), where, "model parameters are not a JSON object");
  ParamMap params;
  for (const auto& p : spec->params.specs())
    params.set(p.name, state.params.contains(p.name) ? value_from_json(p, state.params[p.name], where) : p.default_value);
  try {
    spec->params.validate(params);
  } catch (const Error& e) {
    throw Error("invalid model: " + e.message(), where);
  }
  std::unique_ptr<Transform> t = create(spec->name, params);
  t->load(state, where);
  return t;
}

}  // namespace subset::transform
