#pragma once
// `subset al pending`: the rows annotators still owe, as the CSV a query writes (row,score) plus
// the round that proposed each. Also how a query's list is recovered when its command was killed
// after the query was recorded and before its CSV was in place.
#include <cstdint>
#include <string>

namespace subset::workflows::al {

struct PendingJob {
  std::string project;
  std::string output;  // `row,score,round` CSV (score empty when the strategy gave none)
  bool force = false;
};

// Writes every pending row (Ledger::pending order: by round, then as proposed) under a temporary
// name and renames it into place; refuses an output that is the project or its pool. Returns the
// number of rows written (a header alone when none is pending).
int64_t write_pending(const PendingJob& job);

}  // namespace subset::workflows::al
