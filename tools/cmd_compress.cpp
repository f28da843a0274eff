// `subset compress STORE --method NAME (--dim K | --variance V | --eps E) -o OUT.h5 [--model-out M.h5]`
// `subset compress STORE --apply M.h5 -o OUT.h5`
#include <cstdio>
#include <iostream>

#include "libsubset/core/error.h"
#include "libsubset/core/progress.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/compress_job.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"
#include "tools/param_options.h"

namespace subset::cli {
namespace {

std::string method_list() {
  std::string out;
  for (const auto& m : transform::methods()) out += (out.empty() ? "" : "|") + m.name;
  return out;
}

std::string number(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%.4g", v);
  return text;
}

void print_outcome(const workflows::CompressOutcome& o, const workflows::CompressJob& job, bool verbose) {
  std::cout << "compressed " << o.n << (o.test_n ? " + " + std::to_string(o.test_n) + " test" : "") << " rows from "
            << o.input_dim << " to " << o.output_dim << " features with " << o.method;
  if (o.stats.contains("solver")) std::cout << " (" << o.stats["solver"].get<std::string>() << " solver)";
  std::cout << (job.apply_model ? " from " + *job.apply_model : ", seed " + std::to_string(o.seed)) << " -> "
            << job.output << "\n";
  if (!job.apply_model) std::cout << "  fit " << number(o.fit_seconds) << " s, ";
  else std::cout << "  ";
  std::cout << "transform and write " << number(o.apply_seconds) << " s\n";
  const nlohmann::json& s = o.stats;
  if (s.contains("explained_variance_ratio")) {
    std::cout << "  explained variance ratio (sum " << number(s["explained_variance_ratio_sum"].get<double>()) << "):";
    for (const auto& r : s["explained_variance_ratio"]) std::cout << " " << number(r.get<double>());
    std::cout << "\n";
  }
  if (s.contains("train_mse")) {
    std::cout << "  reconstruction mse: train " << number(s["train_mse"].get<double>());
    if (s.contains("test_mse")) std::cout << ", test " << number(s["test_mse"].get<double>());
    std::cout << " (mean predictor: train " << number(s["train_baseline_mse"].get<double>());
    if (s.contains("test_baseline_mse")) std::cout << ", test " << number(s["test_baseline_mse"].get<double>());
    std::cout << ")\n";
  }
  if (job.model_out) std::cout << "  model -> " << *job.model_out << "\n";
  if (!verbose) return;
  // -v: every figure of the fit, the phases and the files written.
  std::cout << "  parameters " << o.params.dump() << "\n";
  for (const auto& [key, value] : s.items()) {
    if (key == "explained_variance_ratio" || key == "explained_variance_ratio_sum" || key == "fit_seconds" ||
        key.find("mse") != std::string::npos)
      continue;  // printed above
    const std::string text = value.dump();
    std::cout << "  " << key << " " << (text.size() <= 160 ? text : std::to_string(value.size()) + " entries (see --json)")
              << "\n";
  }
  std::cout << "  phases: " << (job.apply_model ? "" : "fit " + number(o.fit_seconds) + " s, ") << "apply "
            << number(o.apply_seconds) << " s, write " << number(o.write_seconds) << " s\n";
  if (o.energy.is_object() && o.energy.contains("kwh"))
    std::cout << "  energy " << number(o.energy["kwh"].get<double>()) << " kWh (recorded in the output)\n";
  std::cout << "  wrote " << job.output << (job.model_out ? ", " + *job.model_out : "") << "\n";
}

}  // namespace

Command add_compress_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::CompressJob job;
    int64_t dim = 0;
    double variance = 0, eps = 0;
    std::string apply, model_out, memory_limit;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "compress", "Fit a compression transform (random projection, PCA, autoencoder) or apply a saved one");
  std::string footer = "Methods:\n";
  for (const auto& m : transform::methods())
    footer += "  " + m.name + std::string(14 - std::min<size_t>(13, m.name.size()), ' ') + m.summary + "\n";
  footer += "Each method's own options are listed above with the method name in brackets.";
  app->footer(footer);
  app->add_option("store", o->job.store, "HDF5 feature store: fitted on /features, applied to /features and /test/features")
      ->required();
  app->add_option("-m,--method", o->job.method, method_list());
  app->add_option("--dim", o->dim, "Output dimension K, 1 <= K < D");
  app->add_option("--variance", o->variance, "pca: keep the fewest components explaining this fraction, in (0, 1]");
  app->add_option("--eps", o->eps, "random projections: K from the Johnson-Lindenstrauss bound for N points, eps in (0, 1)");
  app->add_option("--apply", o->apply, "Apply this saved model (from --model-out) instead of fitting");
  app->add_option("-o,--output", o->job.output, "Compressed store to write (.h5)")->required();
  app->add_option("--model-out", o->model_out, "Also save the fitted transform as a model file, for --apply");
  app->add_option("--seed", o->job.seed, "Seed of every random choice of the fit")->check(seed_value())->capture_default_str();
  app->add_flag("--force", o->job.force, "Overwrite existing outputs");
  add_memory_limit_option(*app, o->memory_limit,
                          "pca and the projections stream the store; a run that would not fit (the autoencoder "
                          "holds all rows) is refused before any work");
  add_json_flag(*app, o->json);

  // Every method parameter becomes an option, generated from the method's one declaration.
  std::vector<const ParamSchema*> schemas;
  for (const auto& m : transform::methods()) schemas.push_back(&m.params);
  auto params = std::make_shared<ParamOptions>(*app, schemas);

  return {app, [o, app, params, &global]() {
            workflows::CompressJob job = o->job;
            if (app->count("--dim")) job.target.dim = o->dim;
            if (app->count("--variance")) job.target.variance = o->variance;
            if (app->count("--eps")) job.target.eps = o->eps;
            if (app->count("--apply")) job.apply_model = o->apply;
            if (app->count("--model-out")) job.model_out = o->model_out;
            job.memory_limit = memory_limit_of(o->memory_limit);
            SUBSET_CHECK(!job.apply_model || !app->count("--seed"), "--seed",
                         "applies to fitting; --apply uses the fitted model as it is");
            const transform::MethodSpec* spec = job.method.empty() ? nullptr : &transform::method(job.method);
            for (const auto& [name, text] : params->given())
              SUBSET_CHECK_PARAM(spec, name, "is a method parameter: give it with --method when fitting");
            if (spec) job.params = params->given(spec->params, spec->name);
            // The autoencoder is libtorch's: loading the model-training library installs it.
            if (workflows::compress_needs_torch(job)) nn_workflows();
            // Phase lines and the fit's progress (autoencoder epochs) on one display (core/progress.h).
            const ProgressSinks progress = progress_sinks("", !global.quiet);
            job.status = progress.status;
            job.progress = progress.progress;
            job.energy_report = start_energy_recording(global);
            const workflows::CompressOutcome out = workflows::run_compress(job);
            if (progress.printer) progress.printer->finish();
            if (o->json) std::cout << workflows::to_json(out).dump(2) << "\n";
            else print_outcome(out, job, global.verbose);
            return 0;
          }};
}

}  // namespace subset::cli
