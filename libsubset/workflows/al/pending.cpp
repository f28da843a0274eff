#include "libsubset/workflows/al/pending.h"

#include <cstdio>
#include <fstream>

#include "libsubset/core/error.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/workflows/al/ledger.h"

namespace subset::workflows::al {

int64_t write_pending(const PendingJob& job) {
  io::note_input(job.project);  // -o PROJECT is refused like any output that is an input
  const Ledger ledger = Ledger::open(job.project);
  SUBSET_CHECK(!io::same_file(job.output, ledger.project().pool), job.output, "is the project's pool store");
  io::AtomicOutput out(job.output, job.force);
  const std::vector<PendingRow> rows = ledger.pending();
  {
    std::ofstream f(out.temp_path());
    f << "row,score,round\n";
    char score[64];
    for (const PendingRow& p : rows) {
      score[0] = '\0';
      if (p.score) std::snprintf(score, sizeof score, "%.9g", *p.score);
      f << p.row << "," << score << "," << p.round << "\n";
    }
    f.flush();
    SUBSET_CHECK(f.good(), job.output, "cannot write the pending rows");
  }
  out.commit();
  return static_cast<int64_t>(rows.size());
}

}  // namespace subset::workflows::al
