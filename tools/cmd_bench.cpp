// `subset bench STORE --methods a,b --fractions f1,f2 -o DIR`: the accuracy-versus-energy sweep.
#include <sys/stat.h>

#include <iostream>

#include "libsubset/core/error.h"
#include "libsubset/core/progress.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/bench.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"

namespace subset::cli {
namespace {

std::string plot_script() {
  struct stat st {};
  if (stat(SUBSET_PLOT_SCRIPT_BUILD, &st) == 0) return SUBSET_PLOT_SCRIPT_BUILD;
  return SUBSET_PLOT_SCRIPT_INSTALLED;
}

}  // namespace

Command add_bench_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::BenchJob job;
    std::string python = "/usr/bin/python3";
    bool no_plot = false;
    bool no_cache = false;
    bool unweighted = false;
    bool json = false;
    std::string methods_text, fractions_text;
  };
  auto o = std::make_shared<Options>();
  std::string methods;
  for (const auto& m : select::methods()) methods += (methods.empty() ? "" : ",") + m.name;
  CLI::App* app = parent.add_subcommand("bench", "Sweep selection methods and fractions: test accuracy against energy");
  app->footer(
      "For each method and fraction, REPEATS times: select (seed SEED+r, energy measured), train the proxy\n"
      "model on the selection, test. Writes DIR/results.json, DIR/results.csv, DIR/plot.png (test accuracy\n"
      "against kWh per method, full data marked) and the selections in DIR/selections/.");
  app->add_option("store", o->job.store, "HDF5 feature store with /labels and a /test split")->required();
  // One argument each, split here: CLI11's delimiter(',') on a list option read ",," as no value
  // and went on to take the next option as one.
  app->add_option("--methods", o->methods_text,
                  "Comma-separated selection methods (" + methods +
                      "), each optionally with parameters: METHOD:PARAM=VALUE:...")
      ->required();
  app->add_option("--fractions", o->fractions_text, "Comma-separated fractions of the rows, each in (0, 1]")
      ->required();
  app->add_flag("--per-class", o->job.per_class, "Run each method within each class");
  const EmbeddingOptions embedding = add_embedding_options(
      *app, "Select on this same-rows store of STORE (subset embed); its energy is counted in every row (column "
            "embed_kwh)");
  const TrainingOptions training = add_training_options(*app, o->job.training, workflows::bench_schema().schema());
  app->add_flag("--unweighted", o->unweighted, "Ignore selections' weights when training");
  app->add_flag("--no-cache", o->no_cache, "Measure the full-data trainings again instead of reusing the cache");
  app->add_option("-o,--output", o->job.output_dir, "Directory to write")->required();
  app->add_flag("--force", o->job.force, "Replace an existing output directory");
  app->add_flag("--no-plot", o->no_plot, "Do not draw plot.png (no matplotlib needed)");
  app->add_option("--python", o->python, "Python with matplotlib, for the plot")->capture_default_str();
  add_json_flag(*app, o->json);
  return {app, [o, app, training, embedding, &global]() {
            workflows::BenchJob job = o->job;
            training.apply(job.training);
            workflows::bench_schema().set_all(job, training.job->given());
            job.seed = job.training.seed;
            job.use_cache = !o->no_cache;
            job.use_weights = !o->unweighted;
            if (!o->no_plot) job.plot_command = {o->python, plot_script()};
            job.meter = global.meter;
            // Phase lines and per-epoch progress on one display, under the one rule (core/progress.h).
            const ProgressSinks progress = progress_sinks("", !global.quiet);
            job.status = progress.status;
            job.progress = progress.progress;
            job.methods = workflows::split_bench_list(o->methods_text, "methods");
            job.fractions = workflows::parse_bench_fractions(o->fractions_text);
            workflows::check_bench_lists(job.methods, job.fractions);  // before loading libtorch
            job.embedding = embedding.resolve(*app, job.store, global, !o->json);
            const workflows::BenchResult result = nn_workflows().bench(job);
            if (progress.printer) progress.printer->finish();
            if (o->json) std::cout << workflows::to_json(result).dump(2) << "\n";
            else std::cout << workflows::format_bench(result);
            if (!o->json && global.verbose) {
              std::cout << workflows::format_bench_timings(result);
              std::cout << "wrote " << result.output_dir << "/results.json, " << result.output_dir << "/results.csv"
                        << (result.plotted ? ", " + result.output_dir + "/plot.png" : "") << ", "
                        << result.output_dir << "/selections/ (" << result.rows.size() * static_cast<size_t>(job.repeats)
                        << " selection files)\n";
            }
            return 0;
          }};
}

}  // namespace subset::cli
