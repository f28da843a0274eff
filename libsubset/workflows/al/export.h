#pragma once
// `subset al export`: the labelled rows of a project as a feature store (docs/format.md, "Exported
// labels"): the pool's features of those rows in ascending row order, their current labels, the
// class names, /pool_rows (the pool row of each) and /round (the round each was labelled in), and the
// pool's test split when it has one, so the store is ready for `subset evaluate`.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace subset::workflows::al {

struct ExportJob {
  std::string project;
  std::string output;
  bool force = false;
};

struct ExportOutcome {
  int64_t rows = 0;
  std::vector<int64_t> class_counts;
  bool test_split = false;
};

// Refuses a project without labelled rows, a pool that is no longer the one the project was made
// over (rows or feature checksum differ), and an output that is the project or the pool.
ExportOutcome run_export(const ExportJob& job);

// What `al export --json` prints: output, rows, class_counts, test_split.
nlohmann::json to_json(const ExportJob& job, const ExportOutcome& outcome);

}  // namespace subset::workflows::al
