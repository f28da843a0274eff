#pragma once
// `subset al query` as one library call (docs/active-learning.md): read the ledger's snapshot,
// train the proxy on the labelled rows (features from the project's features store), score the
// candidates (pool rows neither labelled nor pending; with `candidates` a seeded random subset of
// them), pick a batch with the strategy, record the query as pending with the snapshot's version
// (refused when another command recorded something meanwhile), and write `row,score` for the
// annotators. This header includes no libtorch; run_al_query lives in libsubset_workflows_nn.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/settings_schema.h"
#include "libsubset/core/train_settings.h"
#include "libsubset/energy/meter.h"
#include "libsubset/workflows/al/ledger.h"
#include "libsubset/workflows/al/settings.h"

namespace subset::workflows::al {

struct QueryJob {
  std::string project;
  std::string strategy = "entropy";
  StrategyOptions options;            // batch, candidates, passes, dropout
  // `row,score` CSV; empty: PROJECT's name without .al, then ".query<ROUND>.csv", next to it.
  std::string output;
  std::string images;                 // directory of PNGs (image stores only); empty: none
  bool force = false;
  TrainSettings proxy;                // model, hidden, epochs, ... (al_proxy_settings applies)
  std::optional<energy::MeterOptions> meter;  // the whole command's report, recorded in the ledger
  std::function<void(const std::string&)> status;
};

// The job's own tunable, by option name: strategy (the others: strategy_options_schema,
// al_proxy_schema).
const SettingsSchema<QueryJob>& query_schema();

struct QueryOutcome {
  QueryRecord record;          // as recorded (id = round)
  int64_t eligible = 0;        // pool rows neither labelled nor pending
  int64_t scored = 0;          // candidates scored (< eligible with --candidates)
  std::string candidates_by;   // how they were chosen: "random" or "neighbours"
  std::string output;          // the CSV written
  std::string images;          // the image directory, or empty
  int64_t image_files = 0;
};

// Throws Error (ParamError for bad settings) before any work for a bad job, and when the ledger
// moved on meanwhile; nothing is recorded or written then.
QueryOutcome run_al_query(const QueryJob& job);

nlohmann::json to_json(const QueryOutcome& outcome);
std::string format_query(const QueryOutcome& outcome);

}  // namespace subset::workflows::al
