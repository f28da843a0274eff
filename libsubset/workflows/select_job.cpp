#include "libsubset/workflows/select_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "libsubset/core/communicator.h"
#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/index_list.h"
#include "libsubset/io/store.h"
#include "libsubset/energy/report.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "libsubset/workflows/internal/rank_energy.h"
#include "libsubset/workflows/memory_plan.h"
#include "libsubset/workflows/parallel_reader.h"

namespace subset::workflows {
namespace {

// `rows` names the rows in messages: "the store", "X".
int64_t resolve_budget(const std::optional<int64_t>& budget_given, const std::optional<double>& fraction, int64_t n,
                       const char* rows = "the store") {
  SUBSET_CHECK_PARAM(budget_given.has_value() != fraction.has_value(), "budget",
               "give exactly one of --budget and --fraction");
  if (budget_given) {
    const int64_t budget = *budget_given;
    SUBSET_CHECK_PARAM(budget >= 1, "budget", "budget must be at least 1, got " << budget);
    SUBSET_CHECK_PARAM(budget <= n, "budget", "budget " << budget << " exceeds the " << n << " points in " << rows);
    return budget;
  }
  const double f = *fraction;
  SUBSET_CHECK_PARAM(std::isfinite(f) && f > 0.0 && f <= 1.0, "fraction", "fraction must be in (0, 1], got " << f);
  return std::max<int64_t>(1, std::llround(f * static_cast<double>(n)));
}

// A selection made in an embedding space costs the embedding too: the manifest's energy is the
// embedding's recorded report plus the selection's own, with both parts kept under "embedding".
void record_embedding_cost(const std::string& path, const io::FeatureStore& store,
                           const std::optional<energy::EnergyReport>& selection, io::SelectionManifest& m) {
  if (selection) m.energy = energy::to_json(*selection);
  const io::StoreInfo& info = store.info();
  if (!info.same_rows) return;
  m.embedding = {{"path", path}, {"checksum", store.features_checksum()}, {"energy", info.energy},
                 {"selection_energy", m.energy}};
  if (selection && !info.energy.is_null())
    m.energy = energy::to_json(energy::add_reports(energy::report_from_json(info.energy), *selection));
}

// The request's budget and already_selected from the job's: the method adds budget - kept rows.
void set_budget(select::SelectionRequest& request, int64_t budget, const std::vector<int64_t>& already_selected,
                bool by_fraction) {
  const auto kept = static_cast<int64_t>(already_selected.size());
  SUBSET_CHECK_PARAM(budget > kept, by_fraction ? "fraction" : "budget",
                     "the selection must hold more than the " << kept << " rows it contains already; got " << budget);
  request.budget = budget - kept;
  request.already_selected = already_selected;
}

struct Picked {
  select::Selection selection;
  double seconds = 0;
};

Picked run_method(const select::Selector& selector, const select::MethodSpec& spec, const select::SelectionRequest& request,
                  bool per_class, uint64_t seed, const std::function<void(int64_t, int64_t)>& progress) {
  select::validate_request(spec, request, per_class);
  select::RunContext context{seed, progress};
  const auto t0 = std::chrono::steady_clock::now();
  Picked picked;
  picked.selection = per_class ? select::select_per_class(selector, request, context) : selector.select(request, context);
  picked.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return picked;
}

// The selection file of a run: the kept rows first, then the picks; the manifest's method part.
SelectOutcome outcome_of(Picked picked, const select::MethodSpec& spec, const ParamMap& params, int64_t budget,
                         const std::vector<int64_t>& already_selected, bool per_class, uint64_t seed) {
  SelectOutcome outcome;
  outcome.seconds = picked.seconds;
  io::SelectionFile& file = outcome.selection;
  const auto kept = static_cast<int64_t>(already_selected.size());
  if (kept > 0) {
    file.indices = already_selected;
    file.indices.insert(file.indices.end(), picked.selection.indices.begin(), picked.selection.indices.end());
  } else {
    file.indices = std::move(picked.selection.indices);
    file.weights = std::move(picked.selection.weights);
    file.scores = std::move(picked.selection.scores);
    outcome.centroids = std::move(picked.selection.centroids);
  }
  io::SelectionManifest& m = file.manifest;
  m.method = spec.name;
  m.params = params.to_json();
  m.seed = seed;
  m.budget = budget;
  m.per_class = per_class;
  m.stats = picked.selection.stats;
  m.stats["seconds"] = picked.seconds;
  if (kept > 0) m.stats["already_selected"] = kept;
  return outcome;
}

// The lowest of the ranks' rows (-1 for none), the same on every rank.
int64_t lowest_row_over_ranks(const Communicator& comm, int64_t mine) {
  int64_t first = -1;
  for (int64_t row : gather_all(comm, mine))
    if (row >= 0 && (first < 0 || row < first)) first = row;
  return first;
}

// The first row holding a NaN or an Inf over every rank's rows (each rank scans its own), -1 when
// none: every rank then fails alike, before any work.
int64_t first_non_finite_row(const select::RowBlocks& rows) {
  int64_t mine = -1;
  rows.for_each_block([&](int64_t first, MatrixViewF block) {
    if (mine >= 0) return;
    const int64_t at = find_non_finite(block.data(), static_cast<size_t>(block.size()));
    if (at >= 0) mine = first + at / block.cols();
  });
  return lowest_row_over_ranks(rows.comm(), mine);
}

// This rank's share of the rows (share_of), read with parallel HDF5 into memory: the rows a method
// that trains on shares holds (the importance scores' data-parallel proxy).
std::vector<float> read_share(const std::string& path, const std::string& dataset, const RowShare& share, int64_t dim) {
  const select::RowBlocks::Reader read = open_parallel_reader(path, dataset);  // collective
  std::vector<float> rows(static_cast<size_t>(share.rows * dim));
  read(share.first_row, share.rows, rows.data());
  return rows;
}

}  // namespace

io::FeatureStore open_embedding(const std::string& path, const io::FeatureStore& source) {
  io::FeatureStore embedding = io::FeatureStore::open(path);
  const auto& rows = embedding.info().same_rows;
  SUBSET_CHECK_PARAM(rows, "embedding",
                     path << " is not a same-rows store (no 'same_rows' record: make it with subset embed)");
  const std::string checksum = source.features_checksum();
  SUBSET_CHECK_PARAM(rows->n == source.info().n() && rows->checksum == checksum, "embedding",
                     path << " embeds another store (" << rows->n << " rows, features " << rows->checksum << "), not "
                          << source.path() << " (" << source.info().n() << " rows, features " << checksum << ")");
  return embedding;
}

const std::vector<std::string>& headline_stats() {
  // kcenter: covering_radius; kmeans: inertia, iterations, converged; probcover: coverage, delta,
  // purity; herding: mean_gap; importance scores: pruned, strata; typiclust: clusters.
  static const std::vector<std::string> keys{"covering_radius", "inertia", "iterations", "converged", "coverage",
                                             "delta", "purity", "mean_gap", "pruned", "strata", "clusters",
                                             "already_selected"};
  return keys;
}

SelectOutcome run_select(const SelectJob& job) {
  const auto t_start = std::chrono::steady_clock::now();
  const select::MethodSpec& spec = select::method(job.method);
  const ParamMap params = spec.params.resolve(job.params);
  const auto selector = spec.create(params);
  std::optional<energy::EnergyMeter> meter;
  if (job.meter) {
    meter.emplace(*job.meter);
    meter->start();
  }

  const io::FeatureStore source = io::FeatureStore::open(job.store);
  // On several ranks rank 0 alone checks that the embedding is the source's (a pass over the whole
  // source store): a mismatch ends the job from there.
  std::optional<io::FeatureStore> embedding;
  if (job.embedding)
    embedding = world().rank() == 0 ? open_embedding(*job.embedding, source) : io::FeatureStore::open(*job.embedding);
  // The store the method reads (features, labels); `source` is the one whose rows it picks.
  const io::FeatureStore& store = embedding ? *embedding : source;
  const std::string& store_path = embedding ? *job.embedding : job.store;
  const io::StoreInfo& info = store.info();
  const int64_t budget = resolve_budget(job.budget, job.fraction, info.n());
  SUBSET_CHECK(!job.per_class || info.has_labels, store_path, "--per-class needs labels, and the store has none");
  SUBSET_CHECK(!spec.needs_labels || info.has_labels, store_path, "method " << spec.name << " needs labels, and the store has none");
  std::optional<io::FeatureArray> features;
  if (spec.needs_features) features = store.array(job.features_dataset);
  else if (job.features_dataset != "/features") store.array(job.features_dataset);  // still validate the name
  const bool writes = !job.output.empty();
  SUBSET_CHECK_PARAM(writes || (!job.indices_out && !job.centroids_out), "output",
                     "--indices-out and --centroids-out need an output (-o)");
  std::vector<std::pair<std::string, std::string>> outputs = {{"-o", job.output}};
  if (job.indices_out) outputs.emplace_back("--indices-out", *job.indices_out);
  if (job.centroids_out) outputs.emplace_back("--centroids-out", *job.centroids_out);
  if (writes) io::check_distinct_outputs(outputs);
  if (writes) io::check_output_path(job.output, job.force);
  if (job.indices_out) io::check_index_list_path(*job.indices_out, job.force);
  if (job.centroids_out) {
    SUBSET_CHECK_PARAM(spec.has_centroids, "centroids-out", "method " << spec.name << " has no centroids (kmeans has)");
    SUBSET_CHECK_PARAM(job.already_selected.empty(), "centroids-out", "no centroids for a selection that extends another");
    io::check_output_path(*job.centroids_out, job.force);
  }

  std::vector<int64_t> labels;
  if (info.has_labels) labels = store.labels();
  select::SelectionRequest request;
  request.n = info.n();
  set_budget(request, budget, job.already_selected, job.fraction.has_value());
  if (info.has_labels) {
    request.labels = &labels;
    request.num_classes = info.num_classes();
  }
  // Cheap checks first: a bad budget or an empty class fails before the features are read.
  if (job.per_class || spec.needs_labels) select::check_classes(request);

  // On several ranks (mpirun), rank 0 writes what they found together.
  const Communicator& comm = world();
  RowMatrixF matrix;
  std::optional<select::RowBlocks> on_disk;
  std::vector<float> share_rows;
  SelectMemoryPlan plan;
  if (features && comm.distributed() && spec.trains_on_shares) {
    plan = plan_shared_select(spec, *features, budget, job.per_class, MemoryLimit::of(job.memory_limit), comm.size());
    const auto [first, last] = share_of(info.n(), comm.rank(), comm.size());
    request.share = RowShare{&comm, first, last - first, info.n()};
    share_rows = read_share(store_path, job.features_dataset, request.share, info.dim());
    const int64_t at = find_non_finite(share_rows.data(), share_rows.size());
    const int64_t bad = lowest_row_over_ranks(comm, at < 0 ? -1 : first + at / info.dim());
    SUBSET_CHECK(bad < 0, store_path + ":" + job.features_dataset, "NaN or Inf in features at row " << bad);
    request.share_features = share_rows.data();
    request.dim = info.dim();
  } else if (features && comm.distributed()) {
    const MemoryLimit limit = MemoryLimit::of(job.memory_limit);
    plan = plan_distributed_select(spec, *features, budget, job.per_class, limit, comm.size());
    // A default limit is each machine's available memory: the ranks take the smallest block size.
    const std::vector<int64_t> proposed = gather_all(comm, plan.block_rows);
    const int64_t agreed = *std::min_element(proposed.begin(), proposed.end());
    if (agreed < plan.block_rows)
      plan = plan_distributed_select(spec, *features, budget, job.per_class, limit, comm.size(), agreed);
    on_disk.emplace(info.n(), info.dim(), plan.block_rows, open_parallel_reader(store_path, job.features_dataset));
    on_disk->share_among(comm);
    on_disk->keep_in_memory(plan.blocks_kept);
    const int64_t bad = first_non_finite_row(*on_disk);
    SUBSET_CHECK(bad < 0, store_path + ":" + job.features_dataset, "NaN or Inf in features at row " << bad);
    request.on_disk = &*on_disk;
    request.dim = info.dim();
  } else if (features) {
    const std::string where = store_path + ":" + job.features_dataset;
    int64_t largest_class = 0;
    if (job.per_class)
      for (const auto& [label, count] : info.class_counts) largest_class = std::max(largest_class, count);
    plan = plan_select_memory(spec, *features, budget, job.per_class, largest_class, MemoryLimit::of(job.memory_limit));
    if (plan.on_disk) {
      // One streamed pass first, so that bad values fail the job before any work, as in memory.
      const int64_t bad = features->find_non_finite_row(static_cast<size_t>(plan.block_rows * info.dim() * 4));
      SUBSET_CHECK(bad < 0, where, "NaN or Inf in features at row " << bad);
      on_disk.emplace(info.n(), info.dim(), plan.block_rows, [array = *features](int64_t first, int64_t count, float* out) {
        array.read_rows(first, count, out);
      });
      on_disk->keep_in_memory(plan.blocks_kept);
      request.on_disk = &*on_disk;
      request.dim = info.dim();
    } else {
      matrix = features->read_all();  // one read; the scan below runs on the matrix in memory
      const int64_t bad = find_non_finite(matrix.data(), static_cast<size_t>(matrix.size()));
      SUBSET_CHECK(bad < 0, where, "NaN or Inf in features at row " << bad / matrix.cols());
      request.features = matrix.data();
      request.dim = matrix.cols();
    }
  }
  const double read_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  SelectOutcome outcome = outcome_of(run_method(*selector, spec, request, job.per_class, job.seed, job.progress), spec,
                                     params, budget, job.already_selected, job.per_class, job.seed);
  outcome.phases = {{"read", read_seconds}, {"select", outcome.seconds}};
  outcome.memory_plan = plan.summary;
  if (on_disk) {
    // What reading from disk cost: blocks read over all passes (bounds may skip some).
    nlohmann::json& stats = outcome.selection.manifest.stats;
    stats["memory_limit_bytes"] = plan.limit_bytes;
    stats["block_rows"] = plan.block_rows;
    stats["blocks_kept"] = on_disk->blocks_kept();
    stats["blocks_read"] = on_disk->blocks_read();
    stats["rows_read"] = on_disk->rows_read();
  }
  io::SelectionFile& file = outcome.selection;
  io::SelectionManifest& m = file.manifest;
  m.features_dataset = job.features_dataset;
  m.source = job.store;
  m.source_n = source.info().n();
  m.source_dim = source.info().dim();
  // A pass over the whole store: rank 0 alone, which writes the manifest.
  if (comm.rank() == 0) m.source_checksum = source.features_checksum();
  if (!embedding) m.same_rows = info.same_rows;
  m.created_by = std::string("libsubset ") + kVersion + " (subset select)";
  if (meter) outcome.energy = meter->stop();
  if (comm.distributed()) {
    m.stats["ranks"] = comm.size();
    if (outcome.energy) outcome.energy = internal::sum_rank_reports(comm, *outcome.energy, m.stats);
  }
  if (comm.rank() != 0) return outcome;  // rank 0 writes what the ranks found together
  record_embedding_cost(store_path, store, outcome.energy, m);
  if (!writes) return outcome;
  const auto t_write = std::chrono::steady_clock::now();
  io::write_selection(job.output, job.force, file);
  if (job.indices_out) io::write_index_list(*job.indices_out, job.force, file.indices);
  if (job.centroids_out) {
    // Centroids are synthetic points, not rows of the store: each gets the label of the real point
    // that represents it and its cluster size as weight.
    const bool same_space = job.features_dataset == "/features";
    io::WriteOptions centroid_options;
    if (!m.energy.is_null()) centroid_options.energy_report = [&m] { return m.energy.dump(); };
    io::write_derived_store(store, outcome.centroids, file.indices, file.weights, same_space && !embedding,
                            std::to_string(file.indices.size()) + " " + spec.name + " centroids of " + store_path +
                                " (" + job.output + ")",
                            "subset select --centroids-out", {*job.centroids_out, job.force, centroid_options});
  }
  outcome.phases.emplace_back("write", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_write).count());
  return outcome;
}

SelectOutcome select_array(const ArraySelectJob& job) {
  const select::MethodSpec& spec = select::method(job.method);
  const ParamMap params = spec.params.resolve(job.params);
  const auto selector = spec.create(params);
  std::optional<energy::EnergyMeter> meter;
  if (job.meter) {
    meter.emplace(*job.meter);
    meter->start();
  }
  const int64_t n = job.rows;
  SUBSET_CHECK_PARAM(job.features && n >= 1 && job.cols >= 1, "X", "needs at least one row and one column, got " << n << " x " << job.cols);
  const MatrixViewF features = view(job.features, n, job.cols);
  const int64_t budget = resolve_budget(job.budget, job.fraction, n, "X");
  SUBSET_CHECK_PARAM(!job.labels || static_cast<int64_t>(job.labels->size()) == n, "y",
                     "has " << (job.labels ? job.labels->size() : 0) << " labels for " << n << " rows");
  SUBSET_CHECK_PARAM(!job.per_class || job.labels, "per-class", "per-class selection needs labels (y)");
  SUBSET_CHECK_PARAM(!spec.needs_labels || job.labels, "y", "method " << spec.name << " needs labels (y)");
  select::SelectionRequest request;
  request.n = n;
  set_budget(request, budget, job.already_selected, job.fraction.has_value());
  if (job.labels) {
    request.labels = job.labels;
    request.num_classes = job.num_classes;
  }
  if (job.per_class || spec.needs_labels) select::check_classes(request);
  const int64_t bad = find_non_finite(features.data(), static_cast<size_t>(features.size()));
  SUBSET_CHECK(bad < 0, job.source, "NaN or Inf in features at row " << bad / features.cols());
  request.features = features.data();
  request.dim = features.cols();

  SelectOutcome outcome = outcome_of(run_method(*selector, spec, request, job.per_class, job.seed, job.progress), spec,
                                     params, budget, job.already_selected, job.per_class, job.seed);
  outcome.phases = {{"select", outcome.seconds}};
  io::SelectionManifest& m = outcome.selection.manifest;
  m.source = job.source;
  m.source_n = n;
  m.source_dim = features.cols();
  m.source_checksum = io::features_checksum_of(features);
  m.created_by = std::string("libsubset ") + kVersion + " (python select)";
  if (meter) {
    outcome.energy = meter->stop();
    m.energy = energy::to_json(*outcome.energy);
  }
  return outcome;
}

}  // namespace subset::workflows
