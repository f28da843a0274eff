#pragma once
// `subset hpo`: a hyperparameter search run on coresets and on the full data, to see whether the
// coreset ranks the configurations as the full data would and what it saves (docs/hpo.md). Every
// configuration of the space is trained once on each coreset (given selection files, or made here by
// the select registry for methods x fractions) and, per `full`, on the full training split; each
// training is appended to DIR/trials.jsonl as it finishes, so an interrupted search resumes.
// The job, its checks and the plan are torch-free; run_hpo lives in libsubset_workflows_nn.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "libsubset/core/settings_schema.h"
#include "libsubset/core/train_settings.h"
#include "libsubset/energy/meter.h"
#include "libsubset/workflows/hpo/report.h"
#include "libsubset/workflows/hpo/space.h"

namespace subset::workflows::hpo {

struct HpoJob {
  std::string store;
  std::string space_path;
  int64_t trials = 20;
  std::string search = "random";       // random | grid | halving
  int64_t eta = 3;                     // halving: each rung keeps the best 1/eta
  std::string full = "all";            // all | top-K | none
  std::vector<std::string> selections; // selection files of `store`; or:
  std::vector<std::string> methods;    // bench method entries (METHOD[:PARAM=VALUE]...) x
  std::vector<double> fractions;       //   fractions, selected here with seed `seed`
  bool per_class = false;
  uint64_t seed = 0;                   // draws of the random search, the selections, every training
  TrainSettings training;              // the fixed settings; a configuration overrides its keys
  bool resume = false;
  std::string output_dir;
  // argv prefix of the plotter; it gets "DIR" appended and writes DIR/hpo.png. Empty: no plot.
  std::vector<std::string> plot_command;
  energy::MeterOptions meter;
  std::function<void(const std::string&)> status;
};

// The search's own tunables, by option name: trials, search, eta, full. (The model's are train_schema().)
const SettingsSchema<HpoJob>& hpo_schema();

// What --full asks for: -1 every configuration (all), 0 none, K > 0 each coreset's K best (top-K).
// ParamError naming "full" otherwise.
int64_t full_top_k(const std::string& full);

// --search halving: the coreset methods searched, each one a successive halving over its nested
// coresets: --methods, with random appended when missing (the Hyperband-style peer). Else empty.
std::vector<std::string> halving_methods(const HpoJob& job);

struct HpoPlan {
  Space space;
  nlohmann::json space_json;
  std::vector<ConfigEntry> configs;  // "c0", "c1", ... in the search's order
  std::vector<std::string> halving_methods;  // halving_methods(job)
  std::vector<std::string> notes;
};
// Checks the job's lists and settings and reads the space; draws the configurations. Torch-free, so
// the CLI calls it before loading the nn library. Throws ParamError / Error.
HpoPlan plan_hpo(const HpoJob& job);

struct HpoResult {
  HpoReport report;
  std::string output_dir;
  int64_t trained = 0;   // trainings run now
  int64_t resumed = 0;   // trainings found in the ledger
  bool plotted = false;
};

// Validates everything first (plan, store, selections, output directory: an existing one with
// trials is refused unless `resume`, and a resumed one must hold the same plan), then trains what
// the ledger lacks and writes DIR/results.json, DIR/results.csv (and DIR/hpo.png).
HpoResult run_hpo(const HpoJob& job);

}  // namespace subset::workflows::hpo
