#pragma once
// `subset select` as one library call: open a store, validate everything, run a selector (within
// classes when asked), and write the selection file (and an optional plain index list).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/energy/meter.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"

namespace subset::workflows {

struct SelectJob {
  std::string store;
  std::string method;
  std::map<std::string, std::string> params;  // method parameters as text, validated by its schema
  std::optional<int64_t> budget;               // exactly one of budget and fraction
  std::optional<double> fraction;              // in (0, 1]: budget = max(1, round(fraction * N))
  // Rows chosen earlier that this selection must contain (a smaller coreset it refines): the method
  // adds budget - |already_selected| rows to them (SelectionRequest::already_selected) and the file
  // lists them first. Its weights and scores would cover the added rows only, so it has none.
  std::vector<int64_t> already_selected;
  bool per_class = false;
  uint64_t seed = 0;
  std::string features_dataset = "/features";
  // A same-rows store of `store` (`subset embed`): the method runs on its features (and
  // features_dataset names one of its datasets), the selection names `store` as its source, and
  // the embedding's recorded energy counts as part of the selection's cost.
  std::optional<std::string> embedding;
  // Empty: nothing is written (library callers that keep the result in memory); the options below
  // then must be empty too.
  std::string output;
  std::optional<std::string> indices_out;      // .txt or .npy
  std::optional<std::string> centroids_out;    // methods with centroids (kmeans): them, as a store
  bool force = false;
  std::function<void(int64_t, int64_t)> progress;
  // When set, the run (reading the store and selecting) is measured and the report recorded in
  // the selection file, so evaluate can count the selection's cost later.
  std::optional<energy::MeterOptions> meter;
  // Bytes the whole process may use (--memory-limit); unset: what the machine has available.
  // Features that do not fit are left on disk and read in blocks by the methods that stream
  // (memory_plan.h); for the others the job fails before reading them.
  std::optional<double> memory_limit;
};

struct SelectOutcome {
  io::SelectionFile selection;  // what was written (or would have been, with no output)
  RowMatrixF centroids;         // methods with centroids: one per index; empty otherwise
  double seconds = 0;           // wall time of the selection itself (not I/O)
  std::optional<energy::EnergyReport> energy;  // when SelectJob::meter was set
  // Wall time of each phase, in order: "read" (opening the store and reading its labels and
  // features, run_select only), "select" (= seconds), "write" (the selection file and the other
  // outputs; absent when nothing is written).
  std::vector<std::pair<std::string, double>> phases;
  // How the features were held (SelectMemoryPlan::summary); empty when the method reads none.
  std::string memory_plan;
};

// The keys of SelectionManifest::stats a user reads by default: the methods' results
// (covering_radius, inertia, coverage, ...). The others are internal counters (distance
// evaluations, points skipped by each bound, ...), for `select -v` and --json.
const std::vector<std::string>& headline_stats();

// Validates the whole job before any work (method, parameters, budget, labels, dataset, output
// paths), then selects and writes. Throws Error on the first problem; nothing is written then.
SelectOutcome run_select(const SelectJob& job);

// The same selection on rows already in memory (the Python module's numpy arrays): the features
// are read in place, not copied. The selection's manifest names `source` and records the rows'
// checksum, so a selection made from a store's /features read into memory matches that store
// (subset extract, evaluate) as one made from the store does.
struct ArraySelectJob {
  // rows x cols, row-major (a view is not assignable, so the job holds its parts)
  const float* features = nullptr;
  int64_t rows = 0, cols = 0;
  const std::vector<int64_t>* labels = nullptr;  // one per row, or null
  int64_t num_classes = 0;                       // 0: 1 + the largest label
  std::string source;                            // what the rows are, for the manifest and messages
  std::string method;
  std::map<std::string, std::string> params;
  std::optional<int64_t> budget;
  std::optional<double> fraction;
  std::vector<int64_t> already_selected;
  bool per_class = false;
  uint64_t seed = 0;
  std::function<void(int64_t, int64_t)> progress;
  std::optional<energy::MeterOptions> meter;
};
SelectOutcome select_array(const ArraySelectJob& job);

// Opens `path` and checks that it is a same-rows store of `source` (its recorded rows and feature
// checksum are source's); throws ParamError naming "embedding" otherwise.
io::FeatureStore open_embedding(const std::string& path, const io::FeatureStore& source);

}  // namespace subset::workflows
