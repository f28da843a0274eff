#include "libsubset/workflows/select_job.h"

#include <chrono>
#include <cmath>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/index_list.h"
#include "libsubset/io/store.h"
#include "libsubset/select/registry.h"

namespace subset::workflows {
namespace {

int64_t resolve_budget(const SelectJob& job, int64_t n) {
  SUBSET_CHECK_PARAM(job.budget.has_value() != job.fraction.has_value(), "budget",
               "give exactly one of --budget and --fraction");
  if (job.budget) {
    SUBSET_CHECK_PARAM(*job.budget >= 1, "budget", "budget must be at least 1, got " << *job.budget);
    SUBSET_CHECK_PARAM(*job.budget <= n, "budget", "budget " << *job.budget << " exceeds the " << n << " points in the store");
    return *job.budget;
  }
  const double f = *job.fraction;
  SUBSET_CHECK_PARAM(std::isfinite(f) && f > 0.0 && f <= 1.0, "fraction", "fraction must be in (0, 1], got " << f);
  return std::max<int64_t>(1, std::llround(f * static_cast<double>(n)));
}

}  // namespace

SelectOutcome run_select(const SelectJob& job) {
  const select::MethodSpec& spec = select::method(job.method);
  const ParamMap params = spec.params.resolve(job.params);
  const auto selector = spec.create(params);
  std::optional<energy::EnergyMeter> meter;
  if (job.meter) {
    meter.emplace(*job.meter);
    meter->start();
  }

  const io::FeatureStore store = io::FeatureStore::open(job.store);
  const io::StoreInfo& info = store.info();
  const int64_t budget = resolve_budget(job, info.n());
  SUBSET_CHECK(!job.per_class || info.has_labels, job.store, "--per-class needs labels, and the store has none");
  SUBSET_CHECK(!spec.needs_labels || info.has_labels, job.store, "method " << spec.name << " needs labels, and the store has none");
  std::optional<io::FeatureArray> features;
  if (spec.needs_features) features = store.array(job.features_dataset);
  else if (job.features_dataset != "/features") store.array(job.features_dataset);  // still validate the name
  std::vector<std::pair<std::string, std::string>> outputs = {{"-o", job.output}};
  if (job.indices_out) outputs.emplace_back("--indices-out", *job.indices_out);
  if (job.centroids_out) outputs.emplace_back("--centroids-out", *job.centroids_out);
  io::check_distinct_outputs(outputs);
  io::check_output_path(job.output, job.force);
  if (job.indices_out) io::check_index_list_path(*job.indices_out, job.force);
  if (job.centroids_out) {
    SUBSET_CHECK_PARAM(spec.has_centroids, "centroids-out", "method " << spec.name << " has no centroids (kmeans has)");
    io::check_output_path(*job.centroids_out, job.force);
  }

  std::vector<int64_t> labels;
  if (info.has_labels) labels = store.labels();
  select::SelectionRequest request;
  request.n = info.n();
  request.budget = budget;
  if (info.has_labels) {
    request.labels = &labels;
    request.num_classes = info.num_classes();
  }
  // Cheap checks first: a bad budget or an empty class fails before the features are read.
  if (job.per_class || spec.needs_labels) select::check_classes(request);

  RowMatrixF matrix;
  if (features) {
    matrix = features->read_all();  // one read; the scan below runs on the matrix in memory
    const int64_t bad = find_non_finite(matrix.data(), static_cast<size_t>(matrix.size()));
    SUBSET_CHECK(bad < 0, job.store + ":" + job.features_dataset,
                 "NaN or Inf in features at row " << bad / matrix.cols());
    request.features = matrix.data();
    request.dim = matrix.cols();
  }
  select::validate_request(spec, request);

  select::RunContext context{job.seed, job.progress};
  const auto t0 = std::chrono::steady_clock::now();
  select::Selection picked = job.per_class ? select::select_per_class(*selector, request, context)
                                           : selector->select(request, context);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  SelectOutcome outcome;
  outcome.seconds = seconds;
  io::SelectionFile& file = outcome.selection;
  file.indices = std::move(picked.indices);
  file.weights = std::move(picked.weights);
  file.scores = std::move(picked.scores);
  io::SelectionManifest& m = file.manifest;
  m.method = spec.name;
  m.params = params.to_json();
  m.seed = job.seed;
  m.budget = budget;
  m.per_class = job.per_class;
  m.features_dataset = job.features_dataset;
  m.source = job.store;
  m.source_n = info.n();
  m.source_dim = info.dim();
  m.source_checksum = store.features_checksum();
  m.created_by = std::string("libsubset ") + kVersion + " (subset select)";
  m.stats = picked.stats;
  m.stats["seconds"] = seconds;
  if (meter) {
    outcome.energy = meter->stop();
    m.energy = energy::to_json(*outcome.energy);
  }
  io::write_selection(job.output, job.force, file);
  if (job.indices_out) io::write_index_list(*job.indices_out, job.force, file.indices);
  if (job.centroids_out) {
    // Centroids are synthetic points, not rows of the store: each gets the label of the real point
    // that represents it and its cluster size as weight.
    const bool same_space = job.features_dataset == "/features";
    io::WriteOptions centroid_options;
    if (!m.energy.is_null()) centroid_options.energy_report = [&m] { return m.energy.dump(); };
    io::write_derived_store(store, picked.centroids, file.indices, file.weights, same_space,
                            std::to_string(file.indices.size()) + " " + spec.name + " centroids of " + job.store +
                                " (" + job.output + ")",
                            "subset select --centroids-out", {*job.centroids_out, job.force, centroid_options});
  }
  return outcome;
}

}  // namespace subset::workflows
