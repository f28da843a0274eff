#include "libsubset/workflows/al/query.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "libsubset/core/rng.h"
#include "libsubset/energy/report.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/al/images.h"
#include "libsubset/workflows/al/init.h"
#include "libsubset/workflows/al/round.h"
#include "libsubset/workflows/al/strategies.h"

namespace subset::workflows::al {
namespace {

std::string default_output(const std::string& project, int64_t round) {
  std::string base = project;
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".al") == 0) base.resize(base.size() - 3);
  return base + ".query" + std::to_string(round) + ".csv";
}

// Pool rows neither labelled nor pending, ascending.
std::vector<int64_t> open_rows(int64_t pool_rows, const Snapshot& snap) {
  std::vector<char> taken(static_cast<size_t>(pool_rows), 0);
  for (int64_t r : snap.labelled_rows) taken[static_cast<size_t>(r)] = 1;
  for (int64_t r : snap.pending_rows) taken[static_cast<size_t>(r)] = 1;
  std::vector<int64_t> rows;
  for (int64_t r = 0; r < pool_rows; ++r)
    if (!taken[static_cast<size_t>(r)]) rows.push_back(r);
  return rows;
}

void write_csv(const std::string& path, const std::vector<int64_t>& rows, const std::vector<float>& scores) {
  std::ofstream f(path);
  f << "row,score\n";
  char buf[64];
  for (size_t i = 0; i < rows.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(scores[i]));
    f << rows[i] << "," << buf << "\n";
  }
  f.flush();
  SUBSET_CHECK(f.good(), path, "cannot write the query");
}

}  // namespace

QueryOutcome run_al_query(const QueryJob& job) {
  strategy_needs(job.strategy);
  strategy_options_schema().check(job.options);
  check_train_settings(al_proxy_settings(job.proxy));
  std::optional<energy::EnergyMeter> command_meter;
  if (job.meter) {
    command_meter.emplace(*job.meter);
    command_meter->start();
  }
  Ledger ledger = Ledger::open(job.project);
  SUBSET_CHECK(ledger.writable(), job.project, "the project file (or its directory) cannot be written");
  const ProjectInfo& project = ledger.project();
  check_pool_unchanged(project, io::FeatureStore::open(project.pool));
  const Snapshot snap = ledger.snapshot();
  QueryOutcome out;
  out.output = job.output.empty() ? default_output(job.project, snap.rounds) : job.output;
  io::AtomicOutput csv(out.output, job.force);
  const io::FeatureStore features = io::FeatureStore::open(project.features);
  const StoreRows pool(features.array(project.features_dataset));
  SUBSET_CHECK(pool.rows() == project.pool_rows, project.features,
               "has " << pool.rows() << " rows, the pool " << project.pool_rows);
  std::optional<ImageWriter> images;
  if (!job.images.empty()) images.emplace(job.images, io::FeatureStore::open(project.pool), job.force);

  const Rng root = Rng(project.seed).fork(1000 + static_cast<uint64_t>(snap.rounds));
  RoundData data;
  data.pool = &pool;
  data.labelled_rows = snap.labelled_rows;
  data.labels = snap.labels;
  std::vector<int64_t> open = open_rows(project.pool_rows, snap);
  out.eligible = static_cast<int64_t>(open.size());
  out.candidates_by = job.options.candidates_by;
  data.candidates = choose_candidates(pool, snap.labelled_rows, std::move(open), job.options, root.fork(0).seed());
  data.num_classes = project.num_classes();
  std::optional<StoreRows> test;
  std::vector<int64_t> test_labels;
  const io::StoreInfo& info = features.info();
  if (project.features_dataset == "/features" && info.has_test && info.has_test_labels) {
    test.emplace(features.features(io::Split::Test));
    test_labels = features.labels(io::Split::Test);
    data.test = &*test;
    data.test_labels = &test_labels;
  }
  out.scored = static_cast<int64_t>(data.candidates.size());
  RoundSettings settings;
  settings.strategy = job.strategy;
  settings.options = job.options;
  settings.proxy = job.proxy;
  settings.seed = root.fork(1).seed();
  settings.meter = job.meter;
  settings.status = job.status;
  const RoundResult round = run_round(data, settings);

  QueryRecord& rec = out.record;
  rec.strategy = job.strategy;
  rec.batch = job.options.batch;
  rec.rows = round.rows;
  rec.scores = round.scores;
  rec.settings = {{"strategy", job.strategy},
                  {"options", strategy_options_schema().to_json(job.options)},
                  {"candidates", {{"eligible", out.eligible}, {"scored", out.scored}, {"subset", out.scored < out.eligible},
                                  {"by", out.candidates_by}}},
                  {"seed", std::to_string(settings.seed)}};
  rec.labelled_before = static_cast<int64_t>(snap.labelled_rows.size());
  if (round.proxy_trained) rec.settings["proxy"] = train_schema().to_json(al_proxy_settings(job.proxy, rec.labelled_before), "mlp");
  rec.proxy_test_accuracy = round.test_accuracy;
  rec.training = round.training;
  rec.scoring = round.scoring;
  rec.selection = round.selection;
  write_csv(csv.temp_path(), rec.rows, rec.scores);
  if (images) out.image_files = images->write(rec.rows);
  if (command_meter) rec.energy = energy::to_json(command_meter->stop());
  rec.id = ledger.record_query(rec, snap.version);
  csv.commit();
  if (images) {
    images->commit();
    out.images = job.images;
  }
  return out;
}

}  // namespace subset::workflows::al
