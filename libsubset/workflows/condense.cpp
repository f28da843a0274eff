#include "libsubset/workflows/condense.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/version.h"
#include "libsubset/energy/report.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/describe_file.h"
#include "libsubset/io/model_file.h"
#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/nn/condense.h"
#include "libsubset/nn/gemm_backend.h"
#include "libsubset/nn/torch_threads.h"

namespace subset::workflows {
namespace {

using Clock = std::chrono::steady_clock;

// A checkpoint is a model file (io/model_file.h) of method kCheckpointMethod: arrays images
// [rows, dim], momentum [rows, dim] and labels [rows] (as floats: exact below 2^24), params the
// resolved settings, stats the progress and the energy spent so far.
constexpr const char* kCheckpointMethod = io::kCondenseCheckpointMethod;  // how `subset info` knows one

// Settings that must agree between a checkpoint and the run resuming it: all but the iterations.
nlohmann::json resumable_part(nlohmann::json settings) {
  settings.erase("iterations");
  return settings;
}

std::string duration_text(double seconds) {
  char text[32];
  if (seconds < 90) std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 5400) std::snprintf(text, sizeof text, "%.1f min", seconds / 60);
  else std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  return text;
}

void write_checkpoint(const std::string& path, const nn::CondenseState& state, const nlohmann::json& settings,
                      int64_t dim, const io::FeatureStore& store, const energy::EnergyReport& spent) {
  io::ModelFile file;
  ModelState& m = file.state;
  m.method = kCheckpointMethod;
  const int64_t rows = static_cast<int64_t>(state.labels.size());
  m.input_dim = dim;
  m.output_dim = rows;
  m.params = settings;
  m.stats = {{"iterations_done", state.iterations_done}, {"last_loss", state.last_loss}};
  m.arrays["images"] = {{rows, dim}, state.images};
  m.arrays["momentum"] = {{rows, dim}, state.momentum};
  m.arrays["labels"] = {{rows}, std::vector<float>(state.labels.begin(), state.labels.end())};
  file.seed = 0;
  file.source = store.path();
  file.source_checksum = store.features_checksum();
  file.created_by = std::string("libsubset ") + kVersion + " (subset condense)";
  file.energy = energy::to_json(spent);
  // A checkpoint is in place at once (it must outlive a kill -9), outside the command's all-or-none
  // outputs, and replaces the one this run read back.
  io::ImmediateOutputs immediate;
  io::write_model_file(path, /*force=*/true, file);
}

struct Resumed {
  nn::CondenseState state;
  std::optional<energy::EnergyReport> spent;
};

// A checkpoint is read before any work and trusted with nothing: a file edited or made by another
// tool must fail here, in one line, not as NaN images 16 s later or a store with a class 99.
Resumed read_checkpoint(const std::string& path, const nlohmann::json& settings, const CondenseSettings& resolved,
                        int64_t classes, int64_t dim, const io::FeatureStore& store) {
  SUBSET_CHECK(std::filesystem::exists(path), path, "no checkpoint to resume from (run with --checkpoint-every first)");
  const io::ModelFile file = io::read_model_file(path);
  const ModelState& m = file.state;
  SUBSET_CHECK(m.method == kCheckpointMethod, path, "is not a condensation checkpoint (method " << m.method << ")");
  SUBSET_CHECK(file.source_checksum == store.features_checksum(), path,
               "checkpoint was made from other data (" << file.source << "), not " << store.path());
  SUBSET_CHECK(m.params.is_object(), path, "checkpoint records no settings");
  const nlohmann::json mine = resumable_part(settings), theirs = resumable_part(m.params);
  if (mine != theirs) {
    std::string differ;
    for (auto it = mine.begin(); it != mine.end(); ++it)
      if (!theirs.contains(it.key()) || theirs[it.key()] != it.value())
        differ += (differ.empty() ? "" : ", ") + it.key() + " " +
                  (theirs.contains(it.key()) ? theirs[it.key()].dump() : "unset") + " -> " + it.value().dump();
    for (auto it = theirs.begin(); it != theirs.end(); ++it)
      if (!mine.contains(it.key())) differ += (differ.empty() ? "" : ", ") + it.key() + " " + it.value().dump() + " -> unset";
    SUBSET_FAIL(path, "checkpoint has other settings (" << differ << "): resume with the same ones, or start over");
  }
  Resumed r;
  const nlohmann::json done = m.stats.is_object() ? m.stats.value("iterations_done", nlohmann::json()) : nlohmann::json();
  SUBSET_CHECK(done.is_number_integer(), path, "checkpoint records no whole number of iterations done");
  r.state.iterations_done = done.get<int64_t>();
  SUBSET_CHECK(r.state.iterations_done >= 0, path,
               "checkpoint claims " << r.state.iterations_done << " iterations done (corrupt checkpoint?)");
  SUBSET_CHECK(r.state.iterations_done <= resolved.iterations, path,
               "checkpoint is at iteration " << r.state.iterations_done << ", beyond --iterations " << resolved.iterations);
  const nlohmann::json loss = m.stats.value("last_loss", nlohmann::json());
  r.state.last_loss = loss.is_number() ? loss.get<double>() : 0.0;
  const int64_t rows = classes * resolved.ipc;
  SUBSET_CHECK(m.output_dim == rows && m.input_dim == dim, path,
               "checkpoint holds " << m.output_dim << " images of " << m.input_dim << " values, expected " << rows
                                   << " (ipc " << resolved.ipc << " x " << classes << " classes) of " << dim);
  r.state.images = m.array("images", {rows, dim}, path).values;
  r.state.momentum = m.array("momentum", {rows, dim}, path).values;
  const int64_t bad_image = find_non_finite(r.state.images.data(), r.state.images.size());
  SUBSET_CHECK(bad_image < 0, path, "NaN or Inf in checkpoint images at row " << bad_image / dim);
  const int64_t bad_momentum = find_non_finite(r.state.momentum.data(), r.state.momentum.size());
  SUBSET_CHECK(bad_momentum < 0, path, "NaN or Inf in checkpoint momentum at row " << bad_momentum / dim);
  const std::vector<float>& labels = m.array("labels", {rows}, path).values;
  for (int64_t row = 0; row < rows; ++row) {
    // Class-major, as initial_state lays them out and the condenser assumes: ipc rows of class 0, ...
    const int64_t expected = row / resolved.ipc;
    const float y = labels[static_cast<size_t>(row)];
    SUBSET_CHECK(y == static_cast<float>(expected), path,
                 "checkpoint label of row " << row << " is " << y << ", expected " << expected << " (ipc "
                                            << resolved.ipc << " rows per class, class by class)");
    r.state.labels.push_back(expected);
  }
  if (!file.energy.is_null()) {
    try {
      r.spent = energy::report_from_json(file.energy);
    } catch (const std::exception&) {
      SUBSET_FAIL(path, "checkpoint's energy report is malformed");
    }
  }
  return r;
}

// Refuses, before any work, to use or overwrite a checkpoint the user did not ask about: an
// existing OUTPUT.checkpoint.h5 is used only with --resume and replaced only with --force.
void check_checkpoint_path(const CondenseJob& job, const std::string& checkpoint) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool exists = fs::exists(fs::symlink_status(checkpoint, ec));
  if (!exists) return;
  struct stat a {}, b {};
  if (stat(checkpoint.c_str(), &a) == 0 && stat(job.store.c_str(), &b) == 0)
    SUBSET_CHECK(a.st_dev != b.st_dev || a.st_ino != b.st_ino, checkpoint,
                 "the checkpoint path is the input store " << job.store << ": choose another -o");
  SUBSET_CHECK(job.resume || job.force, checkpoint,
               "a checkpoint exists: pass --resume to continue from it, or --force to start over and replace it");
}

}  // namespace

namespace {

// OUTPUT: the synthetic rows and labels, the source's image shape, class names and test split, and
// the record of the condensation; `final_energy` (the whole condensation's report) is taken last,
// just before the writer commits.
void write_synthetic_store(const CondenseJob& job, const io::FeatureStore& store, const nn::CondenseState& state,
                           const CondenseSettings& settings, CondenseOutcome& out,
                           const std::function<nlohmann::json()>& final_energy) {
  const io::StoreInfo& info = store.info();
  io::WriteOptions options;
  auto report = std::make_shared<std::string>();
  options.energy_report = [report] { return *report; };
  io::StoreWriter writer(job.output, job.force, options);
  writer.begin_features(io::Split::Train, out.rows, info.dim());
  writer.write_rows(io::Split::Train, out.rows, state.images.data());
  writer.write_labels(io::Split::Train, state.labels);
  if (!info.image_shape.empty()) writer.set_image_shape(info.image_shape);
  writer.set_class_names(info.class_names);
  if (info.has_test) {
    const io::FeatureArray test = store.features(io::Split::Test);
    const RowMatrixF test_rows = test.read_all();
    writer.begin_features(io::Split::Test, test.rows(), test.cols());
    writer.set_origin(io::Split::Test, job.store + ":/test/features");
    writer.write_rows(io::Split::Test, test.rows(), test_rows.data());
    if (info.has_test_labels) writer.write_labels(io::Split::Test, store.labels(io::Split::Test));
  }
  const nlohmann::json record = {{"method", settings.method},
                                 {"settings", out.settings},
                                 {"iterations_done", state.iterations_done},
                                 {"final_loss", state.last_loss},
                                 {"backend", nn::gemm_backend()},
                                 {"resumed_from", out.resumed_from},
                                 {"source", job.store},
                                 {"source_checksum", store.features_checksum()}};
  writer.set_root_attribute("condensation", record.dump());
  writer.set_source(settings.method + " condensation (" + std::to_string(settings.ipc) + " per class) of " + job.store);
  writer.set_created_by(std::string("libsubset ") + kVersion + " (subset condense)");
  out.energy = final_energy();
  *report = out.energy.dump();
  writer.commit();
}

}  // namespace

CondenseOutcome run_condense(const CondenseJob& job) {
  nn::enable_torch_thread_control();
  energy::EnergyMeter meter(job.meter);
  meter.start();
  const auto t0 = Clock::now();

  const io::FeatureStore store = io::FeatureStore::open(job.store);
  const io::StoreInfo& info = store.info();
  SUBSET_CHECK(info.has_labels, job.store, "store has no /labels: condensation synthesises images per class");
  SUBSET_CHECK_PARAM(job.checkpoint_every >= 0, "checkpoint-every", "must be >= 0, got " << job.checkpoint_every);
  io::check_output_path(job.output, job.force);
  const std::string checkpoint = checkpoint_path(job);
  check_checkpoint_path(job, checkpoint);

  const RowMatrixF features = store.features().read_all();
  const int64_t bad = find_non_finite(features.data(), static_cast<size_t>(features.size()));
  SUBSET_CHECK(bad < 0, job.store + ":/features", "NaN or Inf in features at row " << bad / features.cols());
  const std::vector<int64_t> labels = store.labels();
  nn::CondenseData data;
  data.features = features.data();
  data.labels = labels.data();
  data.n = info.n();
  data.dim = info.dim();
  data.classes = info.num_classes();
  data.image_shape = info.image_shape;
  nn::check_condense(job.settings, data, "condense");
  const CondenseSettings settings = resolve_defaults(job.settings);
  const nlohmann::json settings_json = subset::to_json(settings);

  std::optional<energy::EnergyReport> earlier;  // recorded in the checkpoint
  nn::CondenseState state;
  if (job.resume) {
    Resumed r = read_checkpoint(checkpoint, settings_json, settings, data.classes, data.dim, store);
    state = std::move(r.state);
    earlier = r.spent;
  } else {
    state = nn::initial_state(settings, data);
  }
  const int64_t resumed_from = state.iterations_done;

  // Everything spent up to now, earlier runs included: the meter's scope is closed, added to the
  // tally and reopened (a checkpoint records the tally; so does the output at the end).
  std::optional<energy::EnergyReport> spent = earlier;
  auto bank = [&] {
    const energy::EnergyReport now = meter.stop();
    spent = spent ? energy::add_reports(*spent, now) : now;
    meter.start();
    return *spent;
  };
  nn::CondenseHooks hooks;
  hooks.checkpoint_every = job.checkpoint_every;
  hooks.on_checkpoint = [&](const nn::CondenseState& s) {
    write_checkpoint(checkpoint, s, settings_json, data.dim, store, bank());
    if (job.status) job.status("checkpoint at iteration " + std::to_string(s.iterations_done) + " -> " + checkpoint);
  };
  const auto loop_start = Clock::now();
  hooks.on_iteration = [&](int64_t done, int64_t total, double loss) {
    check_interrupted();
    if (!job.status) return;
    const double elapsed = std::chrono::duration<double>(Clock::now() - loop_start).count();
    const double left = elapsed / static_cast<double>(done - resumed_from) * static_cast<double>(total - done);
    char text[160];
    std::snprintf(text, sizeof text, "%s iteration %lld/%lld, loss %.4g, %s elapsed, about %s left",
                  settings.method.c_str(), static_cast<long long>(done), static_cast<long long>(total), loss,
                  duration_text(elapsed).c_str(), duration_text(left).c_str());
    job.status(text);
  };
  if (job.status)
    job.status(settings.method + ": " + std::to_string(settings.ipc) + " images per class, " +
               std::to_string(data.classes) + " classes, iterations " + std::to_string(resumed_from + 1) + ".." +
               std::to_string(settings.iterations) + (resumed_from ? " (resumed)" : ""));
  state = nn::condense(settings, data, std::move(state), hooks);

  CondenseOutcome out;
  out.settings = settings_json;
  out.rows = static_cast<int64_t>(state.labels.size());
  out.classes = data.classes;
  out.iterations_done = state.iterations_done;
  out.resumed_from = resumed_from;
  out.final_loss = state.last_loss;
  out.output = job.output;

  write_synthetic_store(job, store, state, settings, out, [&] {
    out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    return energy::to_json(bank());
  });
  // Only once SYN.h5 is in place: should that fail (another run took the path), the checkpoint
  // still holds the work.
  io::after_outputs_committed([checkpoint] {
    std::error_code ignored;
    std::filesystem::remove(checkpoint, ignored);
  });
  return out;
}

}  // namespace subset::workflows
