#include "libsubset/workflows/compress_job.h"

#include <algorithm>
#include <chrono>
#include <memory>

#include "libsubset/core/communicator.h"
#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/params.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/energy/report.h"
#include "libsubset/transform/pca.h"
#include "libsubset/workflows/internal/ordered_blocks.h"
#include "libsubset/workflows/internal/rank_energy.h"

namespace subset::workflows {
namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Block sizes: fitting streams large blocks; the transform pass smaller ones (input, codes and
// reconstruction of a block are in memory at once). The transform pass's blocks must not depend
// on anything but the store, so that applying a saved model reproduces the fitted output.
constexpr size_t kFitBlockBytes = size_t{64} << 20;
constexpr size_t kApplyBlockBytes = size_t{16} << 20;
// On several ranks, the most codes a rank > 0 keeps that rank 0 has not taken yet (it computes
// ahead of rank 0, which writes every rank's blocks in turn).
constexpr size_t kApplyAheadBytes = size_t{256} << 20;

// A split's rows as a RowSource that refuses NaN and Inf, naming the row.
transform::RowSource checked_rows(const io::FeatureArray& array, const std::string& where, size_t block_bytes) {
  transform::RowSource source;
  source.rows = array.rows();
  source.dim = array.cols();
  const int64_t block_rows = array.block_rows_for(block_bytes);
  source.blocks = (source.rows + block_rows - 1) / block_rows;
  source.for_blocks = [array, where, block_rows](int64_t first, int64_t end, const transform::RowSource::BlockFn& fn) {
    std::vector<float> buffer;
    for (int64_t b = first; b < end; ++b) {
      check_interrupted();
      const int64_t begin = b * block_rows, count = std::min(block_rows, array.rows() - begin);
      buffer.resize(static_cast<size_t>(count * array.cols()));
      array.read_rows(begin, count, buffer.data());
      const int64_t bad = find_non_finite(buffer.data(), buffer.size());
      SUBSET_CHECK(bad < 0, where, "NaN or Inf in features at row " << begin + bad / array.cols());
      fn(begin, view(buffer.data(), count, array.cols()));
    }
  };
  return source;
}

// Per-column sums of a split's inputs and its squared reconstruction error.
struct SplitErrors {
  int64_t rows = 0;
  std::vector<double> sum, sumsq;
  double reconstruction = 0;  // sum of squared differences

  explicit SplitErrors(int64_t d) : sum(static_cast<size_t>(d), 0.0), sumsq(static_cast<size_t>(d), 0.0) {}

  // Mean squared error of predicting `mean` for every row (the mean predictor).
  double baseline_mse(const std::vector<double>& mean) const {
    double total = 0;
    for (size_t j = 0; j < sum.size(); ++j)
      total += sumsq[j] - 2.0 * mean[j] * sum[j] + static_cast<double>(rows) * mean[j] * mean[j];
    return std::max(0.0, total) / (static_cast<double>(rows) * static_cast<double>(sum.size()));
  }
  double mse() const { return reconstruction / (static_cast<double>(rows) * static_cast<double>(sum.size())); }
  std::vector<double> mean() const {
    std::vector<double> m(sum.size());
    for (size_t j = 0; j < m.size(); ++j) m[j] = sum[j] / static_cast<double>(rows);
    return m;
  }

  // Adds a block's figures (block_figures), in block order.
  void add(int64_t block_rows, const std::vector<double>& figures) {
    rows += block_rows;
    if (figures.empty()) return;
    const size_t d = sum.size();
    reconstruction += figures[0];
    for (size_t j = 0; j < d; ++j) {
      sum[j] += figures[1 + j];
      sumsq[j] += figures[1 + d + j];
    }
  }
};

// A block's figures for a transform that reconstructs (none for one that does not): its squared
// reconstruction error, then its inputs' column sums and sums of squares. Each block sums from
// zero and SplitErrors::add adds the blocks in order, so that ranks computing blocks apart give the
// sums of one process.
std::vector<double> block_figures(const transform::Transform& t, MatrixViewF block, const float* codes) {
  if (!t.can_reconstruct()) return {};
  const int64_t d = t.input_dim();
  std::vector<double> figures(static_cast<size_t>(1 + 2 * d), 0.0);
  double* sum = figures.data() + 1;
  double* sumsq = sum + d;
  for (Eigen::Index i = 0; i < block.rows(); ++i)
    for (int64_t j = 0; j < d; ++j) {
      const double v = block(i, j);
      sum[j] += v;
      sumsq[j] += v * v;
    }
  RowMatrixF back(block.rows(), d);
  t.reconstruct(view(codes, block.rows(), t.output_dim()), back.data());
  figures[0] = (back - block).cast<double>().squaredNorm();
  return figures;
}

// Transforms a split block by block, measuring reconstruction errors on the way. On several ranks
// each transforms its share of the blocks (ordered_blocks.h) and rank 0 writes them all, in row
// order, into `writer` (null on the other ranks) and adds up their errors into `e`, as one process
// does. False on a rank > 0 that handed a failure to rank 0.
bool transform_split(const Communicator& comm, const transform::Transform& t, const io::FeatureArray& array,
                     io::Split split, const std::string& where, io::StoreWriter* writer, size_t ahead_bytes,
                     SplitErrors& e) {
  const int64_t k = t.output_dim();
  e = SplitErrors(t.input_dim());
  if (writer) writer->begin_features(split, array.rows(), k);
  const transform::RowSource source = checked_rows(array, where, kApplyBlockBytes);
  const auto produce = [&](int64_t b) {
    internal::BlockResult result;
    source.for_blocks(b, b + 1, [&](int64_t, MatrixViewF block) {
      result.rows.resize(static_cast<size_t>(block.rows() * k));
      t.apply(block, result.rows.data());
      result.figures = block_figures(t, block, result.rows.data());
    });
    return result;
  };
  const auto consume = [&](int64_t, const internal::BlockResult& result) {
    const auto rows = static_cast<int64_t>(result.rows.size()) / k;
    writer->write_rows(split, rows, result.rows.data());
    e.add(rows, result.figures);
  };
  return internal::gather_blocks_in_order(comm, source.blocks, ahead_bytes, produce, consume);
}

void check_fit_options_absent(const CompressJob& job) {
  SUBSET_CHECK_PARAM(job.method.empty(), "apply", "takes the method from the model file: give --method only to fit");
  SUBSET_CHECK_PARAM(job.params.empty(), "apply", "takes the method's parameters from the model file");
  SUBSET_CHECK_PARAM(!job.target.dim && !job.target.variance && !job.target.eps, "apply",
               "takes the output dimension from the model file (no --dim, --variance or --eps)");
  SUBSET_CHECK_PARAM(!job.model_out, "model-out", "applies to fitting; --apply already has its model file");
}

}  // namespace

bool compress_needs_torch(const CompressJob& job) {
  try {
    const std::string name = job.apply_model ? io::read_model_file(*job.apply_model).state.method : job.method;
    return transform::method(name).needs_torch;
  } catch (const Error&) {
    return false;
  }
}

namespace {

struct PreparedTransform {
  std::unique_ptr<transform::Transform> transform;
  std::optional<transform::FitOptions> fit;  // unset: a saved model is applied
  io::ModelFile applied;                     // the model file given to --apply
  uint64_t seed = 0;                         // of the fit, or the one the applied model recorded
};

// The transform to fit (planned against the store's size) or the saved one to apply, checked
// against the store before any work.
PreparedTransform prepare_transform(const CompressJob& job, const io::StoreInfo& info) {
  PreparedTransform p;
  if (job.apply_model) {
    check_fit_options_absent(job);
    p.applied = io::read_model_file(*job.apply_model);
    const ModelState& s = p.applied.state;
    SUBSET_CHECK(s.input_dim == info.dim(), *job.apply_model,
                 "model expects " << s.input_dim << " input features, but " << job.store << " has " << info.dim());
    p.transform = transform::load(s, *job.apply_model);
    p.seed = p.applied.seed;
    return p;
  }
  SUBSET_CHECK_PARAM(!job.method.empty(), "method", "give a method to fit, or --apply MODEL.h5");
  const transform::MethodSpec& spec = transform::method(job.method);
  const ParamMap params = spec.params.resolve(job.params);
  p.fit = transform::plan_fit(spec, params, job.target, info.n(), info.dim());
  p.fit->seed = job.seed;
  p.fit->status = job.status;
  p.fit->progress = job.progress;
  p.transform = transform::create(spec.name, params);
  p.seed = job.seed;
  return p;
}

// Refuses, before any work, a job whose memory would exceed the limit: the fit's and the apply
// pass's blocks (an input block, its codes and its reconstruction), the model, the labels; or,
// for a method that fits in memory (needs_torch: the autoencoder), the whole training split.
// `ranks` share the fit: every rank checks the most any of them holds, so that all fail alike.
// `apply_on_ranks`: the ranks share the apply pass, a rank > 0 keeping the codes rank 0 has not
// taken yet, at least an apply block's worth; returns how many bytes it may keep (what the limit
// leaves, at most kApplyAheadBytes), 0 in one process.
double check_compress_memory(const CompressJob& job, const PreparedTransform& p, const io::StoreInfo& info, int ranks,
                             bool apply_on_ranks) {
  const MemoryLimit limit = MemoryLimit::of(job.memory_limit);
  const auto d = static_cast<double>(info.dim());
  const auto k = static_cast<double>(std::max<int64_t>(p.fit ? p.fit->dim : p.transform->output_dim(), 1));
  const double labels = 8.0 * static_cast<double>(info.n() + info.test_n());
  // PCA's D x D sums at most, whatever the method
  const double model = transform::Pca::covariance_bytes(info.dim(), ranks) + 2.0 * d * k * sizeof(float);
  const double blocks = (p.fit ? static_cast<double>(kFitBlockBytes) : 0.0) + 3.0 * static_cast<double>(kApplyBlockBytes);
  const double ahead = apply_on_ranks ? static_cast<double>(kApplyBlockBytes) : 0.0;
  double need = labels + model + blocks + ahead;
  const bool in_memory = p.fit && transform::method(job.method).needs_torch;
  if (in_memory) need += 2.0 * static_cast<double>(info.n()) * d * sizeof(float);  // the rows and their tensor
  SUBSET_CHECK_PARAM(need <= limit.spendable(), "memory-limit",
                     limit.describe() << " is too small to " << (p.fit ? "fit and apply " : "apply ")
                                      << (p.fit ? job.method : p.applied.state.method) << " on " << info.n() << " x "
                                      << info.dim() << " features: it needs about " << format_bytes(need)
                                      << (in_memory ? " (it trains on all rows in memory)" : "") << ", and "
                                      << format_bytes(std::max(limit.spendable(), 0.0)) << " is left");
  return apply_on_ranks ? std::min(limit.spendable() - need + ahead, static_cast<double>(kApplyAheadBytes)) : 0.0;
}

// On several ranks, a transform that rank 0 alone fitted, copied to the others as its saved state
// (whose apply gives the fitted transform's bits: transform.h).
void share_fitted(const Communicator& comm, std::unique_ptr<transform::Transform>& t) {
  ModelState state;
  std::string text;
  if (comm.rank() == 0) {
    state = t->save();
    nlohmann::json shapes = nlohmann::json::object();
    for (const auto& [name, array] : state.arrays) shapes[name] = array.shape;
    text = nlohmann::json{{"method", state.method}, {"input_dim", state.input_dim}, {"output_dim", state.output_dim},
                          {"params", state.params}, {"stats", state.stats}, {"arrays", shapes}}
               .dump();
  }
  std::vector<char> bytes(text.begin(), text.end());
  broadcast_vector(comm, bytes, 0);
  const nlohmann::json header = nlohmann::json::parse(bytes.begin(), bytes.end());
  for (const auto& [name, shape] : header["arrays"].items()) {
    FloatArray& array = state.arrays[name];
    array.shape = shape.get<std::vector<int64_t>>();
    broadcast_vector(comm, array.values, 0);
  }
  if (comm.rank() == 0) return;
  state.method = header["method"].get<std::string>();
  state.input_dim = header["input_dim"].get<int64_t>();
  state.output_dim = header["output_dim"].get<int64_t>();
  state.params = header["params"];
  state.stats = header["stats"];
  t = transform::load(state, "rank 0's model");
}

// A rank other than 0 after its share of the work: it joins the energy sum (the job's report is
// rank 0's to record) and returns what it knows, writing nothing.
CompressOutcome other_rank_outcome(const CompressJob& job, const Communicator& comm, const transform::Transform& t,
                                   const io::StoreInfo& info, CompressOutcome out) {
  if (job.energy_report) {
    nlohmann::json stats;
    const energy::EnergyReport mine = energy::report_from_json(nlohmann::json::parse(job.energy_report()));
    out.energy = energy::to_json(internal::sum_rank_reports(comm, mine, stats));
  }
  const ModelState state = t.save();
  out.method = state.method;
  out.n = info.n();
  out.test_n = info.test_n();
  out.params = state.params;
  out.input_dim = state.input_dim;
  out.output_dim = state.output_dim;
  out.stats = state.stats;
  return out;
}

}  // namespace

CompressOutcome run_compress(const CompressJob& job) {
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  const io::StoreInfo& info = store.info();
  const std::string where = job.store + ":/features";
  CompressOutcome out;
  PreparedTransform prepared = prepare_transform(job, info);
  std::unique_ptr<transform::Transform>& t = prepared.transform;
  const std::optional<transform::FitOptions>& fit = prepared.fit;
  const io::ModelFile& applied = prepared.applied;
  out.seed = prepared.seed;
  // On several ranks (mpirun) they share a fit that splits its passes (pca), each reading its own
  // blocks; rank 0 alone fits any other method, then copies it to the others. They share the apply
  // pass, each transforming its own blocks; rank 0 writes them all.
  const Communicator& comm = world();
  const bool shared_fit = fit && comm.distributed() && transform::method(job.method).distributes;
  const auto ahead =
      static_cast<size_t>(check_compress_memory(job, prepared, info, shared_fit ? comm.size() : 1, comm.distributed()));
  // Rank 0 alone checks the outputs it writes: another rank checking later could find them written.
  if (comm.rank() == 0) {
    io::check_output_path(job.output, job.force);
    if (job.model_out) {
      io::check_distinct_outputs({{"-o", job.output}, {"--model-out", *job.model_out}});
      io::check_output_path(*job.model_out, job.force);
    }
  }

  const io::FeatureArray features = store.features();
  if (fit && (comm.rank() == 0 || shared_fit)) {
    if (job.status) job.status("fitting " + job.method + " on " + std::to_string(info.n()) + " x " +
                               std::to_string(info.dim()));
    const auto t0 = Clock::now();
    transform::RowSource rows = checked_rows(features, where, kFitBlockBytes);
    if (shared_fit) rows.comm = &comm;
    t->fit(rows, *fit);
    out.fit_seconds = since(t0);
  }
  if (fit && comm.distributed() && !shared_fit) share_fitted(comm, t);
  if (comm.rank() != 0) {
    SplitErrors unused(info.dim());
    bool done = transform_split(comm, *t, features, io::Split::Train, where, nullptr, ahead, unused);
    if (done && info.has_test)
      done = transform_split(comm, *t, store.features(io::Split::Test), io::Split::Test,
                             job.store + ":/test/features", nullptr, ahead, unused);
    if (!done) internal::wait_for_rank0_to_fail(comm);
    return other_rank_outcome(job, comm, *t, info, out);
  }

  auto report = std::make_shared<std::string>();
  io::WriteOptions options;
  if (job.energy_report) options.energy_report = [report] { return *report; };
  io::StoreWriter writer(job.output, job.force, options);
  const auto t1 = Clock::now();
  if (job.status) job.status("transforming " + std::to_string(info.n() + info.test_n()) + " rows");
  SplitErrors train(info.dim());
  transform_split(comm, *t, features, io::Split::Train, where, &writer, 0, train);
  if (info.has_labels) writer.write_labels(io::Split::Train, store.labels());
  if (info.has_weights) writer.write_weights(store.weights());
  ModelState state = t->save();
  if (t->can_reconstruct()) {
    state.stats["train_mse"] = train.mse();
    state.stats["train_baseline_mse"] = train.baseline_mse(train.mean());
  }
  if (info.has_test) {
    SplitErrors test(info.dim());
    transform_split(comm, *t, store.features(io::Split::Test), io::Split::Test, job.store + ":/test/features",
                    &writer, 0, test);
    if (info.has_test_labels) writer.write_labels(io::Split::Test, store.labels(io::Split::Test));
    if (t->can_reconstruct()) {
      state.stats["test_mse"] = test.mse();
      state.stats["test_baseline_mse"] = test.baseline_mse(train.mean());
    }
  }
  out.apply_seconds = since(t1);
  const auto t2 = Clock::now();
  if (fit) state.stats["fit_seconds"] = out.fit_seconds;
  if (comm.distributed()) state.stats["ranks"] = comm.size();
  // Taken once all work is done, for both files (the writer asks for it at commit); on several
  // ranks the sum of every rank's, each kept in the stats.
  if (job.energy_report) {
    *report = job.energy_report();
    if (comm.distributed())
      *report = energy::to_json(internal::sum_rank_reports(comm, energy::report_from_json(nlohmann::json::parse(*report)),
                                                           state.stats))
                    .dump();
    out.energy = nlohmann::json::parse(*report);
  }

  out.method = state.method;
  out.params = state.params;
  out.input_dim = state.input_dim;
  out.output_dim = state.output_dim;
  out.n = info.n();
  out.test_n = info.test_n();
  out.stats = state.stats;
  const std::string created_by = std::string("libsubset ") + kVersion + " (" + job.command + ")";
  const nlohmann::json record = {
      {"method", state.method},
      {"params", state.params},
      {"seed", std::to_string(out.seed)},
      {"input_dim", state.input_dim},
      {"output_dim", state.output_dim},
      {"stats", state.stats},
      {"fitted_on", fit ? job.store : applied.source},
      {"fitted_on_checksum", fit ? store.features_checksum() : applied.source_checksum},
      {"model", job.apply_model ? nlohmann::json(*job.apply_model)
                                : job.model_out ? nlohmann::json(*job.model_out) : nlohmann::json(nullptr)}};
  writer.set_root_attribute("transform", record.dump());
  for (const auto& [name, value] : job.root_attributes) writer.set_root_attribute(name, value);
  writer.set_class_names(info.class_names);
  writer.set_source(state.method + " " + std::to_string(state.input_dim) + " -> " + std::to_string(state.output_dim) +
                    " of " + job.store + (job.apply_model ? " (model " + *job.apply_model + ")" : ""));
  writer.set_created_by(created_by);

  if (job.model_out) {
    io::ModelFile model;
    model.state = state;
    model.seed = job.seed;
    model.source = job.store;
    model.source_checksum = record["fitted_on_checksum"].get<std::string>();
    model.created_by = created_by;
    model.energy = out.energy;
    io::write_model_file(*job.model_out, job.force, model);
  }
  writer.commit();
  out.write_seconds = since(t2);
  out.output = io::FeatureStore::open(job.output).info();
  return out;
}

nlohmann::json to_json(const CompressOutcome& o) {
  return {{"method", o.method},
          {"params", o.params},
          {"seed", std::to_string(o.seed)},
          {"input_dim", o.input_dim},
          {"output_dim", o.output_dim},
          {"n", o.n},
          {"test_n", o.test_n},
          {"stats", o.stats},
          {"fit_seconds", o.fit_seconds},
          {"apply_seconds", o.apply_seconds},
          {"write_seconds", o.write_seconds},
          {"output", o.output.path},
          {"energy", o.energy}};
}

namespace {

// Rows per block of `bytes` for rows of `dim` floats (at least one), as a store read in blocks of
// that size gives when its chunks divide it.
int64_t rows_per_block(size_t bytes, int64_t dim) {
  const int64_t row_bytes = std::max<int64_t>(1, dim) * static_cast<int64_t>(sizeof(float));
  return std::max<int64_t>(1, static_cast<int64_t>(bytes) / row_bytes);
}

// Rows in memory as a RowSource in the fit's blocks, interruptible between blocks as a store's are.
transform::RowSource memory_rows(MatrixViewF rows) {
  transform::RowSource inner = transform::rows_of(rows, rows_per_block(kFitBlockBytes, rows.cols()));
  transform::RowSource source = inner;
  source.for_blocks = [inner](int64_t first, int64_t end, const transform::RowSource::BlockFn& fn) {
    inner.for_blocks(first, end, [&](int64_t row, MatrixViewF block) {
      check_interrupted();
      fn(row, block);
    });
  };
  return source;
}

void check_finite(MatrixViewF rows, const std::string& name) {
  const int64_t bad = find_non_finite(rows.data(), static_cast<size_t>(rows.size()));
  SUBSET_CHECK_PARAM(bad < 0, name, "NaN or Inf in " << name << " at row " << bad / std::max<int64_t>(1, rows.cols()));
}

}  // namespace

ArrayFitOutcome fit_array(const ArrayFitJob& job, MatrixViewF x) {
  SUBSET_CHECK_PARAM(!job.method.empty(), "method", "give a method to fit");
  const transform::MethodSpec& spec = transform::method(job.method);
  const ParamMap params = spec.params.resolve(job.params);
  SUBSET_CHECK_PARAM(x.rows() >= 1 && x.cols() >= 1, "X",
                     "there are no rows to fit on (X is " << x.rows() << " x " << x.cols() << ")");
  transform::FitOptions fit = transform::plan_fit(spec, params, job.target, x.rows(), x.cols());
  fit.seed = job.seed;
  fit.status = job.status;
  check_finite(x, "X");
  ArrayFitOutcome out;
  out.transform = transform::create(spec.name, params);
  if (job.status) job.status("fitting " + job.method + " on " + std::to_string(x.rows()) + " x " + std::to_string(x.cols()));
  const auto t0 = Clock::now();
  out.transform->fit(memory_rows(x), fit);
  const double fit_seconds = since(t0);

  ModelState state = out.transform->save();
  if (out.transform->can_reconstruct()) {
    SplitErrors e(x.cols());
    const int64_t block_rows = rows_per_block(kApplyBlockBytes, x.cols());
    transform::rows_of(x, block_rows).for_each_block([&](int64_t, MatrixViewF block) {
      check_interrupted();
      RowMatrixF codes(block.rows(), out.transform->output_dim());
      out.transform->apply(block, codes.data());
      e.add(block.rows(), block_figures(*out.transform, block, codes.data()));
    });
    state.stats["train_mse"] = e.mse();
    state.stats["train_baseline_mse"] = e.baseline_mse(e.mean());
  }
  state.stats["fit_seconds"] = fit_seconds;
  out.model.state = std::move(state);
  out.model.seed = job.seed;
  out.model.source = job.source;
  out.model.source_checksum = io::features_checksum_of(x);
  out.model.created_by = std::string("libsubset ") + kVersion + " (python " + spec.name + ")";
  return out;
}

RowMatrixF apply_array(const transform::Transform& t, MatrixViewF rows, const std::string& name) {
  SUBSET_CHECK_PARAM(rows.cols() == t.input_dim(), name,
                     name << " has " << rows.cols() << " features, but the " << t.name() << " transform was fitted on "
                          << t.input_dim());
  check_finite(rows, name);
  RowMatrixF out(rows.rows(), t.output_dim());
  const int64_t block_rows = rows_per_block(kApplyBlockBytes, rows.cols());
  transform::rows_of(rows, block_rows).for_each_block([&](int64_t first, MatrixViewF block) {
    check_interrupted();
    t.apply(block, out.data() + first * t.output_dim());
  });
  return out;
}

RowMatrixF reconstruct_array(const transform::Transform& t, MatrixViewF codes, const std::string& name) {
  SUBSET_CHECK(t.can_reconstruct(), std::string(t.name()), "has no decoder: it cannot reconstruct its input");
  SUBSET_CHECK_PARAM(codes.cols() == t.output_dim(), name,
                     name << " has " << codes.cols() << " columns, but the " << t.name() << " transform has "
                          << t.output_dim() << " components");
  check_finite(codes, name);
  RowMatrixF out(codes.rows(), t.input_dim());
  const int64_t block_rows = rows_per_block(kApplyBlockBytes, t.input_dim());
  transform::rows_of(codes, block_rows).for_each_block([&](int64_t first, MatrixViewF block) {
    check_interrupted();
    t.reconstruct(block, out.data() + first * t.input_dim());
  });
  return out;
}

}  // namespace subset::workflows
