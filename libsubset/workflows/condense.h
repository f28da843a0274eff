#pragma once
// `subset condense` as one library call: condense a store's training split into `ipc` synthetic
// images per class (libsubset/nn/condense.h) and write them as a feature store that keeps the source's test
// split, records the method and its settings, and carries the energy report of the whole
// condensation. Long runs can checkpoint and resume. This header includes no libtorch; the
// implementation lives in libsubset_workflows_nn.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "libsubset/energy/meter.h"
#include "libsubset/core/condense_settings.h"

namespace subset::workflows {

struct CondenseJob {
  std::string store;
  CondenseSettings settings;
  std::string output;
  bool force = false;
  // Every this many iterations (0: never) the state is saved to checkpoint_path(), replacing the
  // previous checkpoint atomically; it is removed once the output is written.
  int64_t checkpoint_every = 0;
  // Continue from checkpoint_path() instead of starting over; its settings (all but the number of
  // iterations) and source store must be those of this job.
  bool resume = false;
  energy::MeterOptions meter;
  std::function<void(const std::string&)> status;  // progress lines; may be empty
};

// OUTPUT + ".checkpoint.h5".
std::string checkpoint_path(const CondenseJob& job);

struct CondenseOutcome {
  nlohmann::json settings;      // resolved (subset::to_json)
  int64_t rows = 0;             // classes * ipc
  int64_t classes = 0;
  int64_t iterations_done = 0;
  int64_t resumed_from = 0;     // iterations the checkpoint had done (0 when not resumed)
  double final_loss = 0;
  double seconds = 0;           // this run's wall time
  nlohmann::json energy;        // the whole condensation's report (earlier runs of a resumed one included)
  std::string output;
};

// Validates everything first (store with labels, settings against the data, output path, the
// checkpoint when resuming), then condenses and writes. Throws subset::Error; Ctrl-C throws
// Interrupted after the last completed iteration, leaving the output untouched and the last
// checkpoint in place.
CondenseOutcome run_condense(const CondenseJob& job);

nlohmann::json to_json(const CondenseOutcome& outcome);

}  // namespace subset::workflows
