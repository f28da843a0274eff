#pragma once
// `subset al init`: a labelling project over a pool store, with an optional cold-start seed chosen
// without labels (kcenter, typiclust, random) or, for simulations on a labelled pool, balanced.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "libsubset/energy/meter.h"
#include "libsubset/workflows/al/ledger.h"

namespace subset::io {
class FeatureStore;
}

namespace subset::workflows::al {

// Throws Error naming the pool when `pool` is not the store the project was made over (another row
// count or features checksum): a pool replaced after init would otherwise give rows that mean
// other points. Every command that reads the pool calls it.
void check_pool_unchanged(const ProjectInfo& project, const io::FeatureStore& pool);

// The seed methods `al init --seed-method` accepts (names of select's registry).
const std::vector<std::string>& seed_methods();

struct InitJob {
  std::string pool;
  std::string output;
  // The store the strategies read: the pool itself (nullopt), or a same-rows store of it.
  std::optional<std::string> features;
  std::string features_dataset = "/features";
  int64_t seed_size = 0;        // 0: no seed (the first query is the seed)
  std::string seed_method;      // one of seed_methods(); required with seed_size
  uint64_t seed = 0;
  // Classes when the pool names none: a count (named "0", "1", ...) or the names.
  std::optional<int64_t> classes;
  std::vector<std::string> class_names;
  nlohmann::json settings = nlohmann::json::object();  // recorded as ProjectInfo::settings
  std::optional<std::string> seed_out;  // the seed's rows as a `row,score` CSV for annotators
  bool force = false;
  std::optional<energy::MeterOptions> meter;  // measures the seed selection when set
};

struct InitOutcome {
  ProjectInfo project;
  std::optional<QueryRecord> seed;  // as recorded (round 0)
};

// Validates everything (pool, features store, classes, seed method and size, output) before any
// work, selects the seed, and writes the project with its seed in one step.
InitOutcome run_init(const InitJob& job);

// What `al init --json` prints: project, pool, pool_rows, class_names, features, features_dataset,
// seed_rows (null without a seed).
nlohmann::json to_json(const InitJob& job, const InitOutcome& outcome);

}  // namespace subset::workflows::al
