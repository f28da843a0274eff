#pragma once
// `subset evaluate`: what a subset is worth and what it saves. Trains the proxy model (libsubset/nn)
// on the full training split and on each selection (or selection store: a condensed or extracted
// store whose own rows are the training set), tests on /test, and sets the energy of each against
// the other: saved = E(full training) - [E(selection) + E(subset training)].
// This header includes no libtorch; the implementation lives in libsubset_workflows_nn.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/meter.h"
#include "libsubset/core/progress.h"
#include "libsubset/core/settings_schema.h"
#include "libsubset/core/train_settings.h"

namespace subset::workflows {

struct EvaluateJob {
  std::string store;
  std::vector<std::string> selections;   // selection files made from `store`
  // Feature stores whose own /features and /labels are a training set (e.g. `subset condense`
  // output), tested on `store`'s /test; their cost is their recorded root "energy" report.
  std::vector<std::string> selection_stores;
  TrainSettings training;            // model, epochs, batch, ...; seed of repeat r is seed + r.
                                         // Unset epochs and learning rate: the model's defaults
                                         // (resolve_defaults; convnet 300 at 0.01).
                                         // For convnet, image_shape and the channel statistics are
                                         // filled from `store` (its full training split).
  int64_t repeats = 3;
  bool train_full = true;                // false: no full-data trainings (no savings either)
  bool use_weights = true;               // train with a selection's /weights when it has them
  bool use_cache = true;                 // reuse the full-data figures from the sidecar (always recorded there)
  std::string cache_path;                // empty: STORE + ".evaluate-cache.json"
  energy::MeterOptions meter;
  std::function<void(const std::string&)> status;  // progress lines ("full: repeat 2/3 ...")
  // Per-epoch progress over all the run's trainings, weighted by rows x epochs (TrainingProgress in
  // internal/training.h); may be empty.
  ProgressFn progress;
};

// R trainings of one training set.
struct TrainingRuns {
  std::string label;                     // "full", or the selection's method
  int64_t n = 0;                         // training rows
  std::vector<double> accuracies;        // per repeat, in [0, 1]
  std::vector<double> seconds;           // per repeat, wall time of the training
  std::vector<int64_t> epochs;           // per repeat, epochs trained (nn::TrainOutcome::epochs)
  std::vector<int64_t> best_epochs;      // per repeat, the epoch whose weights were tested
  std::vector<double> validation_accuracies;  // per repeat, early-stop's best; empty otherwise
  double accuracy_mean = 0;
  double accuracy_std = 0;               // sample standard deviation (0 for one repeat)
  energy::EnergyReport energy;           // one training (the mean over the repeats)
  bool cached = false;                   // figures read from the sidecar, not measured in this run
  std::string backend;                   // the CPU matrix-product path (nn/gemm_backend.h)
};

struct SelectionEvaluation {
  std::string path;
  std::string kind = "selection";        // "selection" (a selection file) | "store" (a selection store)
  std::string method;                    // the selection's method; a store's file name
  std::string source;                    // a store's "source" attribute (what made it); empty for selections
  bool weighted = false;
  TrainingRuns training;
  std::optional<energy::EnergyReport> selection_energy;  // recorded in the selection file
  // The savings are set only when the result has full-data figures (EvaluateResult::has_full).
  double saved_kwh = 0;                  // E(full) - [E(select) + E(subset)], per training
  double saved_gco2e = 0;
  double saved_percent = 0;              // of E(full)
  // Smallest number of trainings k >= 1 for which k*E(full) >= E(select) + k*E(subset); absent
  // when training on the subset costs as much as on the full data (never pays back).
  std::optional<int64_t> break_even_trainings;
};

struct EvaluateResult {
  std::string store;
  TrainSettings training;            // the job's, resolved: epochs and learning rate are set
  int64_t repeats = 0;
  bool has_full = true;                  // false with train_full = false: `full` is empty
  TrainingRuns full;
  std::vector<SelectionEvaluation> selections;
  energy::Accounting accounting;
  std::vector<std::string> notes;
};

// The job's own tunables, by option name: repeats. (The model's are train_schema().)
const SettingsSchema<EvaluateJob>& evaluate_schema();

// Validates everything first (store has labels and a /test split with labels, every selection
// opens and was made from this store, every selection store has labels in the store's classes and
// the store's number of features (and image shape, for convnet), settings valid), then trains.
// Throws subset::Error.
EvaluateResult run_evaluate(const EvaluateJob& job);

// The savings of one selection against the full training (fills saved_* and break_even).
void account_savings(const TrainingRuns& full, SelectionEvaluation& selection);

// The schedule as the tables' first line states it: "5 epochs", "300 steps", "early-stop (...)".
std::string schedule_text(const TrainSettings& resolved);
// Epochs trained, the mean over the repeats, and under early-stop "/" the mean best epoch:
// "23.3", "23.3/13.3".
std::string epochs_summary(const TrainingRuns& runs);
// Test accuracy as the tables print it: "84.19% ± 0.37" (mean ± std over the repeats), or "84.19%"
// for one repeat, which has no spread.
std::string accuracy_text(const TrainingRuns& runs);
// "1 repeat", "3 repeats".
std::string repeats_text(int64_t repeats);

nlohmann::json to_json(const EvaluateResult& result);
// The table: method  n  seconds  kWh  gCO2e  test-acc, then the energy saved per selection (when
// there are full-data figures).
std::string format_evaluation(const EvaluateResult& result);

}  // namespace subset::workflows
