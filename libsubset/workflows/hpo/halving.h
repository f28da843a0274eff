#pragma once
// Successive halving for `subset hpo --search halving` (docs/hpo.md, "Successive halving"): the
// fidelity is the size of the training set. Rung 0 trains every configuration on the smallest
// coreset; each rung keeps the best 1/eta by validation accuracy (never the test split) for the next,
// larger coreset, which contains the previous one; the last rung is the full training split.
// Torch-free: the rung arithmetic and the per-search summary, built from the trial ledger.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/workflows/hpo/ledger.h"

namespace subset::workflows::hpo {

struct HpoReport;  // report.h, which holds the summaries

// How many configurations each of `rungs` rungs trains: all `configs` on rung 0, then
// max(1, floor(k / eta)) of the previous rung's k.
std::vector<int64_t> rung_sizes(int64_t configs, int64_t rungs, int64_t eta);

// The `keep` best of `scores` (a configuration without a score ranks last), ties to the lower index;
// the indices in increasing order.
std::vector<size_t> keep_best(const std::vector<std::optional<double>>& scores, int64_t keep);

// Walks the rungs: rung 0 holds configurations 0..configs-1, rung r+1 the keep_best of rung r's
// validation accuracies (`validate(rung, config)`, which trains or looks up), rung_sizes() of them.
// Returns the configurations of each rung.
std::vector<std::vector<size_t>> walk_rungs(size_t configs, size_t rungs, int64_t eta,
                                            const std::function<std::optional<double>(size_t, size_t)>& validate);

// A rung of a search: its training set (a coreset's id, or "full") and what making it cost.
struct RungSet {
  std::string set;
  double fraction = 1;
  int64_t n = 0;
  double selection_kwh = 0;  // the rows this rung's coreset adds to the previous one
};

struct RungSummary {
  RungSet rung;
  std::vector<std::string> configs;
  double training_kwh = 0;
  double kwh = 0;  // selection + trainings
};

struct HalvingSummary {
  std::string method;  // the coreset method; random is the Hyperband-style peer
  std::vector<RungSummary> rungs;
  std::string chosen;  // the best validation accuracy of the full-data rung
  std::optional<double> chosen_validation;
  std::optional<double> chosen_test;  // its full-data test accuracy
  // Best full-data test accuracy of the reference minus chosen_test: the reference is the full
  // search (every configuration trained on the full data) when the ledger holds it, else the
  // configurations this search trained on the full data.
  std::optional<double> regret;
  std::string regret_reference;  // "full search" | "this search's full-data rung"
  int64_t trainings = 0;
  double kwh = 0;
};

// Rebuilds a search from the trials of `report` (the last of `rungs` must be "full").
HalvingSummary summarize_halving(const HpoReport& report, const std::string& method, const std::vector<RungSet>& rungs,
                                 int64_t eta);

nlohmann::json to_json(const HalvingSummary& s);
// halving.csv: one line per search and rung.
std::string halving_csv(const std::vector<HalvingSummary>& searches);
// The table printed after the per-coreset one.
std::string format_halving(const std::vector<HalvingSummary>& searches);

}  // namespace subset::workflows::hpo
