// `subset hpo STORE --space space.json --trials N (--selection SEL.h5 ... | --methods M --fractions F)
// -o DIR`: a hyperparameter search on coresets against the full data.
#include <sys/stat.h>

#include <iostream>

#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/hpo/hpo.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"

namespace subset::cli {
namespace {

std::string hpo_plot_script() {
  struct stat st {};
  if (stat(SUBSET_HPO_PLOT_SCRIPT_BUILD, &st) == 0) return SUBSET_HPO_PLOT_SCRIPT_BUILD;
  return SUBSET_HPO_PLOT_SCRIPT_INSTALLED;
}

}  // namespace

Command add_hpo_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::hpo::HpoJob job;
    std::string python = "/usr/bin/python3";
    std::string methods_text, fractions_text;
    bool no_plot = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("hpo", "Hyperparameter search on coresets against the full data");
  app->footer(
      "Trains every configuration of the space on each coreset and (--full) on the full data, appending each\n"
      "training to DIR/trials.jsonl as it ends (--resume continues an interrupted search). Writes\n"
      "DIR/results.json, DIR/results.csv and DIR/hpo.png: per coreset the rank agreement with the full data\n"
      "(Kendall tau-b, Spearman), top-1 agreement, regret and the search's energy (docs/hpo.md).");
  app->add_option("store", o->job.store, "HDF5 feature store with /labels and a /test split")->required();
  app->add_option("--space", o->job.space_path, "JSON search space (docs/hpo.md)")->required();
  app->add_option("--selection", o->job.selections, "Selection files of STORE to search on (one or more)");
  app->add_option("--methods", o->methods_text, "Comma-separated selection methods to make coresets with");
  app->add_option("--fractions", o->fractions_text, "Comma-separated fractions of the rows for --methods");
  app->add_flag("--per-class", o->job.per_class, "Run each method within each class");
  const TrainingOptions training = add_training_options(*app, o->job.training, workflows::hpo::hpo_schema().schema());
  app->add_flag("--resume", o->job.resume, "Continue the search in DIR, skipping the trainings its ledger holds");
  app->add_option("-o,--output", o->job.output_dir, "Directory of the search")->required();
  app->add_flag("--no-plot", o->no_plot, "Do not draw hpo.png (no matplotlib needed)");
  app->add_option("--python", o->python, "Python with matplotlib, for the plot")->capture_default_str();
  add_json_flag(*app, o->json);
  return {app, [o, app, training, &global]() {
            workflows::hpo::HpoJob job = o->job;
            training.apply(job.training);
            workflows::hpo::hpo_schema().set_all(job, training.job->given());
            job.seed = job.training.seed;
            if (app->count("--methods")) job.methods = workflows::split_bench_list(o->methods_text, "methods");
            if (app->count("--fractions")) job.fractions = workflows::parse_bench_fractions(o->fractions_text);
            if (!o->no_plot) job.plot_command = {o->python, hpo_plot_script()};
            job.meter = global.meter;
            job.status = status_lines(global);
            workflows::hpo::plan_hpo(job);  // a bad space fails before libtorch loads
            const workflows::hpo::HpoResult result = nn_workflows().hpo(job);
            if (o->json) std::cout << workflows::hpo::to_json(result.report).dump(2) << "\n";
            else std::cout << workflows::hpo::format_hpo(result.report);
            return 0;
          }};
}

}  // namespace subset::cli
