// `subset evaluate STORE [-s SEL.h5 ...] [--selection-store SYN.h5 ...]`: accuracy, time, energy and
// carbon of training the proxy model on the full data and on each selection or selection store,
// and the energy each saves.
#include <iostream>

#include "libsubset/core/progress.h"
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/evaluate.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"

namespace subset::cli {

Command add_evaluate_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::EvaluateJob job;
    bool no_cache = false;
    bool no_full = false;
    bool unweighted = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("evaluate", "Train a proxy model on the full data and on selections; "
                                                    "report test accuracy, energy, carbon and the energy saved");
  app->footer(
      "Trains on /features and /labels, tests on /test. The full-data figures are cached in\n"
      "STORE.evaluate-cache.json (keyed by checksums of the features, labels, weights and test split, and\n"
      "the settings) and marked (cached) when reused; a file there that is not such a cache is never\n"
      "overwritten. Energy saved = E(full training) - [E(selection) + E(subset training)].\n"
      "--model convnet trains the reference ConvNet of dataset condensation (SGD, lr 0.01 and 300 epochs\n"
      "unless given, lr x0.1 after half of the epochs) on images standardised with STORE's per-channel\n"
      "mean and std; see docs/methods/evaluate.md.");
  app->add_option("store", o->job.store, "HDF5 feature store with /labels and a /test split")->required();
  app->add_option("-s,--selection", o->job.selections, "Selection file made from STORE (repeatable)");
  app->add_option("--selection-store", o->job.selection_stores,
                  "Feature store whose own rows are the training set, e.g. `subset condense` output; "
                  "same features as STORE, tested on STORE's /test (repeatable)");
  const TrainingOptions training = add_training_options(*app, o->job.training, workflows::evaluate_schema().schema());
  app->add_flag("--unweighted", o->unweighted, "Ignore selections' /weights (train on every picked row equally)");
  app->add_flag("--no-full", o->no_full,
                "Skip the full-data trainings (no full row, no energy saved): for models too slow to train on all of STORE");
  app->add_flag("--no-cache", o->no_cache, "Measure the full-data trainings again instead of reusing the cache");
  app->add_option("--cache", o->job.cache_path, "Cache file (default STORE.evaluate-cache.json); created if missing, "
                                                "refused if it exists and is not an evaluate cache");
  add_json_flag(*app, o->json);
  return {app, [o, training, &global]() {
            workflows::EvaluateJob job = o->job;
            training.apply(job.training);
            workflows::evaluate_schema().set_all(job, training.job->given());
            job.use_cache = !o->no_cache;
            job.use_weights = !o->unweighted;
            job.train_full = !o->no_full;
            job.meter = global.meter;
            // Phase lines and per-epoch progress on one display, under the one rule (core/progress.h).
            const ProgressSinks progress = progress_sinks("", !global.quiet);
            job.status = progress.status;
            job.progress = progress.progress;
            const workflows::NnWorkflows& nn = nn_workflows();
            const workflows::EvaluateResult result = nn.evaluate(job);
            if (progress.printer) progress.printer->finish();
            if (o->json) std::cout << workflows::to_json(result).dump(2) << "\n";
            else std::cout << workflows::format_evaluation(result);
            if (!o->json && global.verbose) {
              // Where the time went: each training's wall time, and each selection's recorded cost.
              std::cout << "where the time went (seconds per repeat):\n";
              if (result.has_full)
                std::cout << "  full: training " << workflows::seconds_text(result.full.seconds)
                          << (result.full.cached ? " (cached: measured by an earlier run)" : "") << "\n";
              for (const auto& s : result.selections) {
                std::cout << "  " << s.method << " (" << s.path << "): ";
                if (s.selection_energy)
                  std::cout << (s.kind == "store" ? "making it " : "selection ")
                            << workflows::seconds_text({s.selection_energy->seconds}) << " (recorded), ";
                std::cout << "training " << workflows::seconds_text(s.training.seconds) << "\n";
              }
            }
            return 0;
          }};
}

}  // namespace subset::cli
