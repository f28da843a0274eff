// Tests for libsubset/transform/registry.h: the method table, plan_fit's checks of every target
// before any work, the provider hook, load()'s checks of a saved state, and the docs' parameter
// tables (docs/methods/compression.md) against the declarations.
#include <doctest/doctest.h>

#include <string>

#include "libsubset/transform/registry.h"
#include "support/error_of.h"
#include "support/files.h"

using namespace subset;
using namespace subset::transform;
using subset::test::error_of;

namespace {

std::string plan_error(const std::string& name, const Target& target, int64_t n = 100, int64_t d = 20,
                       std::map<std::string, std::string> params = {}) {
  const MethodSpec& spec = method(name);
  const Error e = error_of([&] { plan_fit(spec, spec.params.resolve(params), target, n, d); });
  return format_error_line(e);
}

Target dim(int64_t k) { return Target{k, std::nullopt, std::nullopt}; }
Target variance(double v) { return Target{std::nullopt, v, std::nullopt}; }
Target eps(double e) { return Target{std::nullopt, std::nullopt, e}; }

}  // namespace

TEST_CASE("the table lists the four methods; an unknown one is refused with the list") {
  std::vector<std::string> names;
  for (const auto& m : methods()) names.push_back(m.name);
  CHECK(names == std::vector<std::string>{"gaussian-rp", "sparse-rp", "pca", "autoencoder"});
  const std::string line = format_error_line(error_of([] { method("svd"); }));
  CHECK(line.find("unknown method 'svd'") != std::string::npos);
  CHECK(line.find("gaussian-rp, sparse-rp, pca, autoencoder") != std::string::npos);
  CHECK(method("autoencoder").needs_torch);
  CHECK_FALSE(method("pca").needs_torch);
}

TEST_CASE("plan_fit resolves K from --dim or --eps, and keeps --variance for pca") {
  const MethodSpec& rp = method("gaussian-rp");
  CHECK(plan_fit(rp, rp.params.resolve({}), dim(5), 100, 20).dim == 5);
  CHECK(plan_fit(rp, rp.params.resolve({}), eps(0.9), 100, 2000).dim == jl_min_dim(100, 0.9));
  const MethodSpec& pca = method("pca");
  const FitOptions o = plan_fit(pca, pca.params.resolve({}), variance(0.8), 100, 20);
  CHECK(o.dim == 0);
  CHECK(*o.variance == 0.8);
}

TEST_CASE("plan_fit refuses every bad target before any work") {
  CHECK(plan_error("pca", dim(20)).find("must be below the input dimension 20") != std::string::npos);
  CHECK(plan_error("pca", dim(25)).find("(dim)") != std::string::npos);
  CHECK(plan_error("gaussian-rp", dim(0)).find("at least 1") != std::string::npos);
  CHECK(plan_error("gaussian-rp", dim(-3)).find("at least 1") != std::string::npos);
  for (double v : {0.0, -0.1, 1.5, std::nan("")})
    CHECK(plan_error("pca", variance(v)).find("variance must be in (0, 1]") != std::string::npos);
  for (double e : {0.0, 1.0, -0.5, 2.0})
    CHECK(plan_error("sparse-rp", eps(e)).find("eps must be in (0, 1)") != std::string::npos);
  CHECK(plan_error("gaussian-rp", eps(0.1)).find("Johnson-Lindenstrauss bound for 100 points") != std::string::npos);
  CHECK(plan_error("gaussian-rp", variance(0.5)).find("applies to pca only") != std::string::npos);
  CHECK(plan_error("pca", eps(0.5)).find("random projections only") != std::string::npos);
  CHECK(plan_error("autoencoder", eps(0.5)).find("random projections only") != std::string::npos);
  CHECK(plan_error("pca", Target{}).find("exactly one of --dim, --variance and --eps") != std::string::npos);
  CHECK(plan_error("pca", Target{3, 0.5, std::nullopt}).find("exactly one") != std::string::npos);
  CHECK(plan_error("pca", dim(10), 5).find("at most N = 5 components") != std::string::npos);
  CHECK(plan_error("pca", dim(1), 1).find("at least 2 rows") != std::string::npos);
  CHECK(plan_error("pca", variance(0.9), 100, 20, {{"solver", "randomized"}}).find("--solver exact") !=
        std::string::npos);
}

TEST_CASE("method parameters are checked by their schema") {
  CHECK(error_of([] { method("sparse-rp").params.resolve({{"density", "1.5"}}); }).message().find("density") !=
        std::string::npos);
  CHECK(error_of([] { method("pca").params.resolve({{"solver", "svd"}}); }).message().find("one of: auto, exact") !=
        std::string::npos);
  CHECK(error_of([] { method("autoencoder").params.resolve({{"epochs", "0"}}); }).message().find("epochs") !=
        std::string::npos);
  CHECK(error_of([] { method("gaussian-rp").params.resolve({{"density", "0.5"}}); }).message().find("takes none") !=
        std::string::npos);
}

TEST_CASE("the autoencoder needs its provider (libsubset_workflows_nn); built-in methods take none") {
  const MethodSpec& ae = method("autoencoder");
  if (!available("autoencoder")) {
    const std::string line = format_error_line(error_of([&] { create("autoencoder", ae.params.resolve({})); }));
    CHECK(line.find("needs libtorch") != std::string::npos);
  }
  CHECK(available("pca"));
  CHECK(error_of([] { set_provider("pca", nullptr); }).message().find("built in") != std::string::npos);
}

TEST_CASE("load refuses states that are not valid models of their method") {
  ModelState s;
  s.method = "pca";
  s.input_dim = 4;
  s.output_dim = 2;
  s.arrays["mean"] = FloatArray{{4}, std::vector<float>(4, 0.0f)};
  s.arrays["components"] = FloatArray{{2, 4}, std::vector<float>(8, 0.5f)};
  s.arrays["explained_variance"] = FloatArray{{2}, {2.0f, 1.0f}};
  CHECK(load(s, "m.h5")->output_dim() == 2);

  ModelState unknown = s;
  unknown.method = "ica";
  CHECK(format_error_line(error_of([&] { load(unknown, "m.h5"); })) == "error: model of unknown method 'ica' (m.h5)");
  ModelState missing = s;
  missing.arrays.erase("mean");
  CHECK(format_error_line(error_of([&] { load(missing, "m.h5"); })).find("no array 'mean'") != std::string::npos);
  ModelState shape = s;
  shape.arrays["components"].shape = {4, 2};
  CHECK(format_error_line(error_of([&] { load(shape, "m.h5"); })).find("has shape [4x2], expected [2x4]") !=
        std::string::npos);
  ModelState bad_param = s;
  bad_param.params["solver"] = 3;
  CHECK(format_error_line(error_of([&] { load(bad_param, "m.h5"); })).find("wrong type") != std::string::npos);
  ModelState bad_value = s;
  bad_value.params["solver"] = "svd";
  CHECK(format_error_line(error_of([&] { load(bad_value, "m.h5"); })).find("invalid model") != std::string::npos);
}
