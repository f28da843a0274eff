#pragma once
// The explicit table of compression methods: name, summary, which targets each takes, and its
// parameters, declared once (ParamSchema) for the CLI, --help, docs and the model file.
//
// The autoencoder needs libtorch, which this module does not link: its table entry is here (so the
// CLI can list and validate it without loading libtorch), its implementation comes from a provider
// that libsubset_workflows_nn installs when its user calls workflows::install_nn_providers() (nn_entry.h).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libsubset/core/params.h"
#include "libsubset/transform/transform.h"

namespace subset::transform {

struct MethodSpec {
  std::string name;
  std::string summary;
  bool takes_variance = false;  // --variance V (pca)
  bool takes_eps = false;       // --eps E (random projections)
  bool needs_torch = false;     // implemented by the libtorch provider
  ParamSchema params;
  // fit() splits its passes over RowSource::comm's ranks and gives one process's model (pca).
  bool distributes = false;
};

const std::vector<MethodSpec>& methods();
// Throws Error listing the known methods for an unknown name.
const MethodSpec& method(std::string_view name);

// How the output dimension is chosen: exactly one of the three.
struct Target {
  std::optional<int64_t> dim;      // --dim K
  std::optional<double> variance;  // --variance V, in (0, 1] (pca)
  std::optional<double> eps;       // --eps E, in (0, 1) (random projections): K from the JL bound
};

// The Johnson-Lindenstrauss dimension of Dasgupta and Gupta (2003), as scikit-learn's
// johnson_lindenstrauss_min_dim states it: the smallest integer K >= 4 ln(n) / (eps^2/2 - eps^3/3).
// (scikit-learn truncates the quotient instead of rounding it up, so its K can be one less.)
int64_t jl_min_dim(int64_t n, double eps);

// Checks a fit before any work and resolves K: the target suits the method, K in [1, D) (and
// K <= N for pca), V in (0, 1], eps in (0, 1) with its JL dimension below D, the parameters suit
// the target (pca's randomized solver cannot choose K by variance). `n` x `d` is the training
// data. Throws Error naming the option.
FitOptions plan_fit(const MethodSpec& spec, const ParamMap& params, const Target& target, int64_t n, int64_t d);

// An unfitted transform of the method; `params` as resolved by the method's schema.
std::unique_ptr<Transform> create(std::string_view method, const ParamMap& params);
// A fitted transform from its saved state: the method's transform, made with the saved params,
// then Transform::load. Throws Error naming `where` when the state is not a valid model of its
// method (unknown method, bad params, arrays missing or of the wrong shape).
std::unique_ptr<Transform> load(const ModelState& state, const std::string& where = "model");

// How a method implemented outside this module (needs_torch) makes its transforms.
using Provider = std::unique_ptr<Transform> (*)(const ParamMap&);
// Process-wide; null uninstalls. Throws Error for a method that is not in the table or needs no
// provider.
void set_provider(std::string_view method, Provider provider);
// Whether create()/load() of the method can work in this process now.
bool available(std::string_view method);

}  // namespace subset::transform
