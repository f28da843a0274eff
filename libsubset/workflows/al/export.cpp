#include "libsubset/workflows/al/export.h"

#include <filesystem>

#include "libsubset/core/error.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/input_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/workflows/al/init.h"
#include "libsubset/workflows/al/ledger.h"

namespace subset::workflows::al {
namespace {

// Copies `rows` (ascending) of the pool's features: one read per block of the chunked layout that
// holds any of them, spanning only from the first to the last such row in it.
void copy_rows(const io::FeatureArray& features, const std::vector<int64_t>& rows, io::StoreWriter& out) {
  const int64_t block = features.block_rows_for(size_t{16} << 20);
  std::vector<float> buf;
  for (size_t i = 0; i < rows.size();) {
    const int64_t block_end = (rows[i] / block + 1) * block;
    size_t j = i;
    while (j < rows.size() && rows[j] < block_end) ++j;
    const int64_t first = rows[i], count = rows[j - 1] - first + 1;
    buf.resize(static_cast<size_t>(count * features.cols()));
    features.read_rows(first, count, buf.data());
    for (size_t k = i; k < j; ++k)
      out.write_rows(io::Split::Train, 1, buf.data() + (rows[k] - first) * features.cols());
    i = j;
  }
}

void copy_test_split(const io::FeatureStore& pool, io::StoreWriter& out) {
  const io::FeatureArray test = pool.features(io::Split::Test);
  out.begin_features(io::Split::Test, test.rows(), test.cols());
  test.for_each_block(test.block_rows_for(size_t{64} << 20), [&out](int64_t, MatrixViewF block) {
    out.write_rows(io::Split::Test, block.rows(), block.data());
    return true;
  });
  if (pool.info().has_test_labels) out.write_labels(io::Split::Test, pool.labels(io::Split::Test));
}

}  // namespace

ExportOutcome run_export(const ExportJob& job) {
  io::note_input(job.project);  // -o PROJECT is refused like any output that is an input
  const Ledger ledger = Ledger::open(job.project);
  const ProjectInfo& p = ledger.project();
  const Snapshot snap = ledger.snapshot();
  SUBSET_CHECK(!snap.labelled_rows.empty(), job.project, "the project has no labelled rows yet: nothing to export");
  SUBSET_CHECK(std::filesystem::exists(p.pool), p.pool,
               "the project's pool store is missing (moved or deleted?): export copies the labelled rows from it");
  io::check_input_path(p.pool);
  const io::FeatureStore pool = io::FeatureStore::open(p.pool);
  check_pool_unchanged(p, pool);

  io::StoreWriter out(job.output, job.force);
  const io::FeatureArray features = pool.features();
  const int64_t n = static_cast<int64_t>(snap.labelled_rows.size());
  out.begin_features(io::Split::Train, n, features.cols());
  copy_rows(features, snap.labelled_rows, out);
  out.set_class_names(p.class_names);
  out.write_labels(io::Split::Train, snap.labels);
  out.write_row_values("/pool_rows", snap.labelled_rows);
  out.write_row_values("/round", snap.label_rounds);
  if (!pool.info().image_shape.empty()) out.set_image_shape(pool.info().image_shape);
  ExportOutcome outcome;
  outcome.rows = n;
  outcome.test_split = pool.info().has_test;
  if (outcome.test_split) copy_test_split(pool, out);
  out.set_source(p.pool);
  out.set_created_by(std::string("libsubset ") + kVersion + " (subset al export)");
  const nlohmann::json provenance = {{"project", job.project}, {"pool", p.pool}, {"pool_checksum", p.pool_checksum},
                                     {"rounds", snap.rounds}, {"labelled", n}};
  out.set_root_attribute("active_learning", provenance.dump());
  out.commit();
  outcome.class_counts.assign(p.class_names.size(), 0);
  for (int64_t label : snap.labels) ++outcome.class_counts[static_cast<size_t>(label)];
  return outcome;
}

nlohmann::json to_json(const ExportJob& job, const ExportOutcome& outcome) {
  return {{"output", job.output}, {"rows", outcome.rows}, {"class_counts", outcome.class_counts},
          {"test_split", outcome.test_split}};
}

}  // namespace subset::workflows::al
