#pragma once
// `subset al simulate` as one library call (docs/active-learning.md, "Simulate"): the pool's
// labels play the annotator, in memory (the pool's features and its test split are read whole; no
// ledger). For each repeat a random seed set of seed-size rows (the same for every strategy of
// that repeat), then for each strategy `rounds` rounds of run_round, each answered at once; after
// every round and at the start the proxy's test accuracy, the labels and the cumulative kWh make
// a point of its learning curve. Writes DIR/curves.json, DIR/curves.csv and DIR/summary.json
// (AUBC, and the labels each strategy needs to reach random's final accuracy). This header
// includes no libtorch; run_al_simulate lives in libsubset_workflows_nn.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/settings_schema.h"
#include "libsubset/core/train_settings.h"
#include "libsubset/energy/meter.h"
#include "libsubset/workflows/al/settings.h"

namespace subset::workflows::al {

struct SimulateJob {
  std::string pool;
  std::string strategies = "random,entropy";  // comma-separated
  int64_t seed_size = 100;
  // How each repeat's seed set is chosen (the same set for every strategy of the repeat): random,
  // or one of `al init`'s seed methods (balanced, kcenter, typiclust) on the pool's features; its
  // cost is counted in round 0 of every curve.
  std::string seed_method = "random";
  int64_t rounds = 10;
  int64_t repeats = 3;
  StrategyOptions options;
  uint64_t seed = 0;       // repeat r draws from Rng(seed).fork(r)
  std::string output;      // directory (created when missing)
  bool force = false;      // replace curves.json, curves.csv and summary.json in it
  TrainSettings proxy;
  std::optional<energy::MeterOptions> meter;
  std::function<void(const std::string&)> status;
};

// The job's own tunables: strategies, seed-size, seed-method, rounds, repeats.
const SettingsSchema<SimulateJob>& simulate_schema();
// The strategy names of job.strategies; throws ParamError ("strategies") for an unknown or repeated one.
std::vector<std::string> parse_strategies(const std::string& list);

struct CurvePoint {
  int64_t round = 0;   // 0: the seed set alone
  int64_t labels = 0;
  double accuracy = 0;  // the proxy on the test split
  double kwh = 0;       // cumulative: every round's training, scoring and selection so far
  double seconds = 0;   // cumulative
};

struct Curve {
  std::string strategy;
  int64_t repeat = 0;
  std::vector<CurvePoint> points;
};

struct StrategySummary {
  std::string strategy;
  std::vector<double> mean_accuracy;  // per round, over repeats
  double aubc = 0;                    // of the mean curve
  std::vector<double> aubc_repeats;
  double final_accuracy = 0;          // of the mean curve
  double kwh = 0;                     // mean over repeats, all rounds
  // The fewest labels at which the mean curve reaches random's final mean accuracy; nullopt when
  // it never does, or random was not simulated.
  std::optional<int64_t> labels_to_random_final;
};

struct SimulateOutcome {
  std::vector<Curve> curves;
  std::vector<StrategySummary> summary;
  std::vector<int64_t> labels;        // per round
  std::string output;
  nlohmann::json settings;
};

// Area under the accuracy-against-labels curve by the trapezoid rule, divided by the label range
// (last - first labels): a mean accuracy in [0, 1]. One point: its accuracy.
double aubc(const std::vector<int64_t>& labels, const std::vector<double>& accuracy);
// The summary of the curves (grouped by strategy, in first-seen order).
std::vector<StrategySummary> summarise(const std::vector<Curve>& curves);

// Throws Error before any work: a pool without labels or without a labelled test split, unknown
// strategies, seed-size + rounds x batch beyond the pool, outputs that exist without force.
SimulateOutcome run_al_simulate(const SimulateJob& job);

nlohmann::json curves_json(const SimulateOutcome& outcome);
nlohmann::json summary_json(const SimulateOutcome& outcome);
std::string curves_csv(const SimulateOutcome& outcome);
std::string format_simulation(const SimulateOutcome& outcome);

}  // namespace subset::workflows::al
