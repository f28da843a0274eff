#pragma once
// What `subset hpo` reports (docs/hpo.md, "Metrics"): for each coreset, how well its ranking of the
// configurations agrees with the full data's, what picking its best costs in full-data accuracy,
// and what its search cost against the full search. Torch-free: built from the trial ledger.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/report.h"
#include "libsubset/workflows/hpo/halving.h"
#include "libsubset/workflows/hpo/ledger.h"

namespace subset::workflows::hpo {

// Kendall's tau-b of two paired samples (ties in either handled as scipy.stats.kendalltau does);
// NaN when fewer than two pairs or one sample is constant.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's correlation of the average ranks; NaN when undefined.
double spearman_rho(const std::vector<double>& x, const std::vector<double>& y);

struct ConfigEntry {
  std::string id;    // "c0", ...
  Config config;
};

struct CoresetInfo {
  std::string id;     // "random-0.1", or the selection file's name
  std::string label;  // method and fraction, or the path
  int64_t n = 0;
  std::optional<energy::EnergyReport> selection_energy;  // counted once per coreset
};

struct CoresetSummary {
  std::string set;
  int64_t n = 0;
  int64_t configs_trained = 0;
  int64_t configs_compared = 0;          // trained on both the coreset and the full data
  double kendall_tau = NAN;              // over the compared configurations
  double spearman = NAN;
  std::string best_config;               // the coreset's best (highest coreset accuracy)
  std::optional<bool> top1_agreement;    // its best has the full data's best accuracy (ties count)
  std::optional<double> regret;          // full acc. of the full search's best - full acc. of the coreset's best
  double selection_kwh = 0;
  double search_kwh = 0;                 // selection + every training on the coreset
  double full_search_kwh = 0;            // full-data trainings of the compared configurations
  std::optional<double> energy_ratio;    // search_kwh / full_search_kwh
};

struct HpoReport {
  std::vector<ConfigEntry> configs;
  std::vector<CoresetInfo> coresets;
  std::vector<TrialRecord> trials;       // in ledger order, one per key
  std::vector<CoresetSummary> summaries; // one per coreset
  std::string full_best;                 // the full search's best configuration, when any
  double full_search_kwh = 0;            // every full-data training
  std::vector<HalvingSummary> halving;   // --search halving: one per coreset method
  std::vector<std::string> notes;
};

// Builds the summaries from the trials (ties in accuracy go to the earlier configuration).
HpoReport make_report(std::vector<ConfigEntry> configs, std::vector<CoresetInfo> coresets,
                      std::vector<TrialRecord> trials, std::vector<std::string> notes);

// The trial of configuration `id` on `set`, or nullptr.
const TrialRecord* find_trial(const HpoReport& report, const std::string& id, const std::string& set);

nlohmann::json to_json(const HpoReport& report);
// results.csv: one line per coreset (and none for the full data).
std::string hpo_results_csv(const HpoReport& report);
// The table printed on stdout: per configuration the accuracies, then per coreset the metrics.
std::string format_hpo(const HpoReport& report);

}  // namespace subset::workflows::hpo
