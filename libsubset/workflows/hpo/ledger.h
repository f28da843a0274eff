#pragma once
// The trial ledger of `subset hpo` (DIR/trials.jsonl): one JSON line per finished training, appended
// with one write() and fsync'd, so that an interrupted search (Ctrl-C, kill -9, a crash) leaves
// every finished trial on disk and at most a torn last line, which --resume drops.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/report.h"
#include "libsubset/workflows/hpo/space.h"

namespace subset::workflows::hpo {

struct TrialRecord {
  std::string config_id;     // "c0", "c1", ... in the search's order
  std::string config_hash;   // config_hash(config)
  Config config;
  std::string set;           // a coreset's id, or "full"
  int64_t n = 0;             // training rows
  double accuracy = 0;       // test accuracy in [0, 1]
  // The trainer's early-stop validation accuracy (held out of the training set), what successive
  // halving ranks by; absent under the other schedules.
  std::optional<double> validation_accuracy;
  int64_t rung = -1;         // a successive-halving rung on a coreset; -1 otherwise
  double seconds = 0;
  int64_t epochs = 0;
  int64_t best_epoch = 0;
  energy::EnergyReport energy;

  // What identifies the training: the configuration's hash, the set and a halving rung. A full-data
  // training has no rung: it is the same training whichever search or rung asks for it.
  std::string key() const { return config_hash + "/" + set + (rung >= 0 ? "/r" + std::to_string(rung) : ""); }
};

nlohmann::json to_json(const TrialRecord& trial);
TrialRecord trial_from_json(const nlohmann::json& j);

// Appends the trial as one line: one write() of the whole line, then fsync. Throws Error.
void append_trial(const std::string& path, const TrialRecord& trial);

struct LedgerContents {
  std::vector<TrialRecord> trials;
  // The last line was cut short by an interruption (no newline, or not JSON); it is not in
  // `trials`, and `whole_bytes` is where the whole lines end.
  bool torn = false;
  int64_t whole_bytes = 0;
};
// Reads the ledger (a missing file is empty). A malformed line other than the last is damage,
// not an interruption: Error naming the line.
LedgerContents read_ledger(const std::string& path);
// Cuts the file to `bytes` (dropping a torn last line before appending). Throws Error.
void truncate_ledger(const std::string& path, int64_t bytes);

}  // namespace subset::workflows::hpo
