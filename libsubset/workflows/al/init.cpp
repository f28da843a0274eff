#include "libsubset/workflows/al/init.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "libsubset/core/error.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/params.h"
#include "libsubset/energy/report.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/select_job.h"

namespace subset::workflows::al {
namespace {

std::string absolute(const std::string& path) { return std::filesystem::absolute(path).lexically_normal().string(); }

std::vector<std::string> resolve_classes(const InitJob& job, const io::StoreInfo& pool) {
  const bool given = job.classes.has_value() || !job.class_names.empty();
  SUBSET_CHECK_PARAM(!(job.classes && !job.class_names.empty()), "classes", "give --classes or --class-names, not both");
  std::vector<std::string> names = job.class_names;
  if (job.classes) {
    SUBSET_CHECK_PARAM(*job.classes >= 1, "classes", "the number of classes must be at least 1, got " << *job.classes);
    for (int64_t c = 0; c < *job.classes; ++c) names.push_back(std::to_string(c));
  }
  if (!pool.class_names.empty()) {
    SUBSET_CHECK_PARAM(!given || names == pool.class_names, job.classes ? "classes" : "class-names",
                       "the pool names its classes already (" << pool.class_names.size()
                                                              << " of them): leave the option out");
    return pool.class_names;
  }
  if (!given && pool.has_labels) {
    for (int64_t c = 0; c < pool.num_classes(); ++c) names.push_back(std::to_string(c));
    return names;
  }
  SUBSET_CHECK_PARAM(given, "classes",
                     "the pool has no labels and names no classes: give --classes N or --class-names a,b,c");
  return names;
}

void check_seed_options(const InitJob& job, int64_t pool_rows) {
  SUBSET_CHECK_PARAM(job.seed_size >= 0, "seed-size", "the seed size must be >= 0, got " << job.seed_size);
  if (job.seed_size == 0) {
    SUBSET_CHECK_PARAM(job.seed_method.empty(), "seed-method", "a seed method needs --seed-size K (K >= 1)");
    return;
  }
  const auto& known = seed_methods();
  std::string list;
  for (const auto& m : known) list += (list.empty() ? "" : ", ") + m;
  SUBSET_CHECK_PARAM(!job.seed_method.empty(), "seed-method", "a seed of " << job.seed_size << " rows needs --seed-method (" << list << ")");
  SUBSET_CHECK_PARAM(std::find(known.begin(), known.end(), job.seed_method) != known.end(), "seed-method",
                     "unknown seed method '" << job.seed_method << "' (" << list << ")");
  SUBSET_CHECK_PARAM(job.seed_size <= pool_rows, "seed-size",
                     "a seed of " << job.seed_size << " rows is more than the pool's " << pool_rows);
}

// The store the strategies read, checked to hold the pool's rows.
io::FeatureStore open_features(const InitJob& job, const io::FeatureStore& pool) {
  if (!job.features) return pool;
  try {
    return open_embedding(*job.features, pool);
  } catch (const ParamError& e) {
    throw ParamError("features", e.message());
  }
}

QueryRecord select_seed(const InitJob& job, const io::FeatureStore& pool, const io::FeatureStore& features,
                        int64_t num_classes) {
  const select::MethodSpec& spec = select::method(job.seed_method);
  const ParamMap params = spec.params.resolve({});
  const auto selector = spec.create(params);
  std::vector<int64_t> labels;
  select::SelectionRequest request;
  request.n = pool.info().n();
  request.budget = job.seed_size;
  if (spec.needs_labels) {
    SUBSET_CHECK_PARAM(pool.info().has_labels, "seed-method",
                       "seed method " << spec.name << " picks the same number of rows from every class, which needs "
                                      << "the pool's labels, and " << pool.path() << " has none (kcenter and "
                                      << "typiclust need no labels)");
    labels = pool.labels();
    request.labels = &labels;
    request.num_classes = num_classes;
    select::check_classes(request);
  }
  std::optional<energy::EnergyMeter> meter;
  if (job.meter) {
    meter.emplace(*job.meter);
    meter->start();
  }
  const auto t0 = std::chrono::steady_clock::now();
  RowMatrixF matrix;
  if (spec.needs_features) {
    matrix = features.array(job.features_dataset).read_all();
    const int64_t bad = find_non_finite(matrix.data(), static_cast<size_t>(matrix.size()));
    SUBSET_CHECK(bad < 0, features.path() + ":" + job.features_dataset, "NaN or Inf in features at row " << bad / matrix.cols());
    request.features = matrix.data();
    request.dim = matrix.cols();
  }
  select::validate_request(spec, request);
  select::Selection picked = selector->select(request, select::RunContext{job.seed, {}});
  QueryRecord r;
  r.strategy = spec.name;
  r.batch = job.seed_size;
  r.rows = std::move(picked.indices);
  if (picked.scores.size() == r.rows.size()) r.scores = std::move(picked.scores);
  r.settings = {{"seed_method", spec.name}, {"params", params.to_json()}, {"seed", job.seed}, {"stats", picked.stats}};
  r.selection.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (meter) {
    const energy::EnergyReport report = meter->stop();
    r.selection.kwh = report.kwh();
    r.energy = energy::to_json(report);
  }
  return r;
}

void write_rows_csv(const std::string& path, bool force, const QueryRecord& r) {
  io::AtomicOutput out(path, force);
  std::ofstream f(out.temp_path());
  f << "row,score\n";
  for (size_t i = 0; i < r.rows.size(); ++i) f << r.rows[i] << "," << (r.scores.empty() ? 0.0f : r.scores[i]) << "\n";
  f.close();
  SUBSET_CHECK(f, path, "cannot write (disk full?)");
  out.commit();
}

}  // namespace

void check_pool_unchanged(const ProjectInfo& p, const io::FeatureStore& pool) {
  const int64_t rows = pool.info().n();
  SUBSET_CHECK(rows == p.pool_rows, p.pool,
               "the pool is not the store the project was made over (" << rows << " rows; the project recorded "
                                                                       << p.pool_rows << ")");
  const std::string checksum = pool.features_checksum();
  SUBSET_CHECK(checksum == p.pool_checksum, p.pool,
               "the pool is not the store the project was made over (its features changed: "
                   << checksum << ", the project recorded " << p.pool_checksum << ")");
}

const std::vector<std::string>& seed_methods() {
  static const std::vector<std::string> names = {"random", "balanced", "kcenter", "typiclust"};
  return names;
}

InitOutcome run_init(const InitJob& job) {
  const io::FeatureStore pool = io::FeatureStore::open(job.pool);
  const io::StoreInfo& info = pool.info();
  check_seed_options(job, info.n());
  const std::vector<std::string> class_names = resolve_classes(job, info);
  const io::FeatureStore features = open_features(job, pool);
  features.array(job.features_dataset);  // the dataset exists and has the pool's rows
  io::check_output_path(job.output, job.force);
  if (job.seed_out) {
    SUBSET_CHECK_PARAM(job.seed_size > 0, "seed-out", "there is no seed to write: give --seed-size and --seed-method");
    io::check_distinct_outputs({{"-o", job.output}, {"--seed-out", *job.seed_out}});
    io::check_output_path(*job.seed_out, job.force);
  }

  InitOutcome out;
  ProjectInfo& p = out.project;
  p.pool = absolute(job.pool);
  p.pool_checksum = pool.features_checksum();
  p.pool_rows = info.n();
  p.class_names = class_names;
  p.features = job.features ? absolute(*job.features) : p.pool;
  p.features_dataset = job.features_dataset;
  p.seed = job.seed;
  p.settings = job.settings;
  if (job.seed_size > 0) out.seed = select_seed(job, pool, features, static_cast<int64_t>(class_names.size()));
  if (job.seed_out) write_rows_csv(*job.seed_out, job.force, *out.seed);  // staged: in place with the project
  Ledger ledger = Ledger::create(job.output, p, job.force, out.seed ? &*out.seed : nullptr);
  out.project = ledger.project();
  if (out.seed) out.seed->id = 0;
  return out;
}

nlohmann::json to_json(const InitJob& job, const InitOutcome& outcome) {
  nlohmann::json j = {{"project", job.output},
                      {"pool", outcome.project.pool},
                      {"pool_rows", outcome.project.pool_rows},
                      {"class_names", outcome.project.class_names},
                      {"features", outcome.project.features},
                      {"features_dataset", outcome.project.features_dataset},
                      {"seed_rows", nullptr}};
  if (outcome.seed) j["seed_rows"] = outcome.seed->rows;
  return j;
}

}  // namespace subset::workflows::al
