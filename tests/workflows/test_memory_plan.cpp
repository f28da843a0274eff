// Tests for libsubset/workflows/memory_plan.h and run_select's use of it: features held in memory
// when they fit under the limit, on disk in whole chunks for the methods that stream, per class
// one class at a time, and a one-line refusal naming --memory-limit otherwise; the selection from
// disk equals the one from memory.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/memory.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/memory_plan.h"
#include "libsubset/workflows/select_job.h"
#include "support/error_of.h"
#include "support/point_sets.h"
#include "support/temp_dir.h"

using namespace subset;
using namespace subset::workflows;

namespace {

constexpr int64_t kRows = 100000, kDim = 64;  // 25.6 MB of features
constexpr double kMiB = 1024.0 * 1024.0;

std::string write_clustered_store(const test::TempDir& dir) {
  const test::Data d = test::clustered(kRows, kDim, 10, 5);
  const std::string path = dir.file("store.h5");
  io::StoreWriter w(path, false);
  w.begin_features(io::Split::Train, kRows, kDim);
  w.write_rows(io::Split::Train, kRows, d.x.data());
  std::vector<int64_t> labels(kRows);
  for (int64_t i = 0; i < kRows; ++i) labels[static_cast<size_t>(i)] = i % 4;
  w.write_labels(io::Split::Train, labels);
  w.commit();
  return path;
}

// A limit leaving `spendable` bytes to the plan (MemoryLimit::spendable keeps a 16 MiB margin).
MemoryLimit leaving(double spendable) { return {resident_bytes() + 16 * kMiB + spendable, true}; }

}  // namespace

TEST_CASE("memory plan: in memory when it fits, else on disk in whole chunks, else a refusal") {
  test::TempDir dir;
  const io::FeatureStore store = io::FeatureStore::open(write_clustered_store(dir));
  const io::FeatureArray features = store.features();
  const auto& kcenter = select::method("kcenter");

  const SelectMemoryPlan fits = plan_select_memory(kcenter, features, 50, false, 0, leaving(200 * kMiB));
  CHECK_FALSE(fits.on_disk);
  CHECK(fits.summary.rfind("in memory", 0) == 0);

  const SelectMemoryPlan streamed = plan_select_memory(kcenter, features, 50, false, 0, leaving(12 * kMiB));
  CHECK(streamed.on_disk);
  const int64_t chunk = features.info().chunk_rows;
  CHECK(streamed.block_rows % chunk == 0);
  // Two blocks and the per-point state within what the limit leaves.
  CHECK(2.0 * static_cast<double>(streamed.block_rows * kDim * 4) + streamed.method_bytes <= 12 * kMiB);
  CHECK(streamed.summary.find("on disk") == 0);

  const std::string small = test::error_of([&] { plan_select_memory(kcenter, features, 50, false, 0, leaving(1.5 * kMiB)); }).what();
  CHECK(small.find("memory-limit") != std::string::npos);
  CHECK(small.find("too small") != std::string::npos);

  const std::string whole = test::error_of(
      [&] { plan_select_memory(select::method("typiclust"), features, 50, false, 0, leaving(12 * kMiB)); }).what();
  CHECK(whole.find("needs its features in memory") != std::string::npos);
  CHECK(whole.find("kcenter") != std::string::npos);

  // Per class, a method that does not stream reads one class at a time: only the largest must fit.
  const SelectMemoryPlan per_class =
      plan_select_memory(select::method("typiclust"), features, 50, true, kRows / 4, leaving(100 * kMiB));
  CHECK(per_class.on_disk);
}

TEST_CASE("memory plan: run_select from disk writes the selection it writes from memory") {
  test::TempDir dir;
  const std::string path = write_clustered_store(dir);
  for (const bool per_class : {false, true}) {
    CAPTURE(per_class);
    SelectJob job;
    job.store = path;
    job.method = "kcenter";
    job.budget = 20;
    job.per_class = per_class;
    job.seed = 9;
    const SelectOutcome in_memory = run_select(job);
    CHECK(in_memory.memory_plan.rfind("in memory", 0) == 0);
    CHECK_FALSE(in_memory.selection.manifest.stats.contains("blocks_read"));
    // Per class, one class (25,000 rows) and k-center's memory for it must fit.
    job.memory_limit = resident_bytes() + 16 * kMiB + (per_class ? 20 : 12) * kMiB;
    const SelectOutcome on_disk = run_select(job);
    CHECK(on_disk.memory_plan.rfind("on disk", 0) == 0);
    CHECK(on_disk.selection.indices == in_memory.selection.indices);
    CHECK(on_disk.selection.weights == in_memory.selection.weights);
    CHECK(on_disk.selection.scores == in_memory.selection.scores);
    CHECK(on_disk.selection.manifest.stats["blocks_read"].get<int64_t>() > 0);
  }
}

TEST_CASE("memory plan on ranks: blocks within each rank's limit and share, at most the agreed size") {
  test::TempDir dir;
  const io::FeatureStore store = io::FeatureStore::open(write_clustered_store(dir));
  const io::FeatureArray features = store.features();
  const auto& kcenter = select::method("kcenter");
  const int64_t chunk = features.info().chunk_rows;

  // A roomy limit: blocks no larger than a rank's share (50,000 rows on 2 ranks).
  const SelectMemoryPlan roomy = plan_distributed_select(kcenter, features, 50, false, leaving(500 * kMiB), 2);
  CHECK(roomy.on_disk);
  CHECK(roomy.block_rows % chunk == 0);
  CHECK(roomy.block_rows <= (kRows / 2 + chunk - 1) / chunk * chunk);
  CHECK(roomy.blocks_kept >= 1);

  // A tight one: two blocks and a rank's state within it, where 64 MiB blocks would not fit.
  const SelectMemoryPlan tight = plan_distributed_select(kcenter, features, 50, false, leaving(6 * kMiB), 2);
  CHECK(tight.block_rows % chunk == 0);
  CHECK(tight.block_rows < roomy.block_rows);
  CHECK(2.0 * static_cast<double>(tight.block_rows * kDim * 4) + tight.method_bytes <= 6 * kMiB);

  // The size the ranks agreed on bounds it.
  const SelectMemoryPlan agreed = plan_distributed_select(kcenter, features, 50, false, leaving(500 * kMiB), 2, tight.block_rows);
  CHECK(agreed.block_rows == tight.block_rows);
  CHECK(agreed.blocks_kept > tight.blocks_kept);

  const std::string small = test::error_of([&] { plan_distributed_select(kcenter, features, 50, false, leaving(0.5 * kMiB), 2); }).what();
  CHECK(small.find("memory-limit") != std::string::npos);
  CHECK(small.find("2 ranks") != std::string::npos);
}

TEST_CASE("memory plan on ranks for the importance scores: each rank's share of the rows in memory, or a refusal") {
  const test::TempDir dir;
  const io::FeatureStore store = io::FeatureStore::open(write_clustered_store(dir));
  const io::FeatureArray features = store.features();
  const select::MethodSpec& loss = select::method("loss");

  // 4 ranks: a share of 25,000 rows of 64 floats, the proxy's 4 * 64 + 64 bytes a row of it and
  // every rank's score (4 bytes a row of all 100,000).
  const SelectMemoryPlan four = plan_shared_select(loss, features, 50, false, leaving(20 * kMiB), 4);
  CHECK_FALSE(four.on_disk);
  CHECK(four.features_bytes == 25000.0 * kDim * 4);
  CHECK(four.method_bytes == 25000.0 * (4 * kDim + 64) + 4.0 * kRows);
  CHECK(four.summary.find("4 ranks") != std::string::npos);

  // 10 MiB holds an eighth of the rows, not a quarter: more ranks, smaller shares.
  const std::string small = test::error_of([&] { plan_shared_select(loss, features, 50, false, leaving(10 * kMiB), 4); }).what();
  CHECK(small.find("memory-limit") != std::string::npos);
  CHECK(small.find("4 ranks") != std::string::npos);
  CHECK(small.find("25000 rows") != std::string::npos);
  CHECK_NOTHROW(plan_shared_select(loss, features, 50, false, leaving(10 * kMiB), 8));

  CHECK(std::string(test::error_of([&] { plan_shared_select(loss, features, 50, true, leaving(20 * kMiB), 2); }).what())
            .find("--per-class") != std::string::npos);
  CHECK(std::string(test::error_of([&] { plan_shared_select(loss, features, 50, false, leaving(20 * kMiB), kRows + 1); }).what())
            .find("at least one row a rank") != std::string::npos);
  CHECK_THROWS(plan_shared_select(select::method("kcenter"), features, 50, false, leaving(20 * kMiB), 2));
}
