#include "libsubset/workflows/bench.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/process.h"
#include "libsubset/energy/report.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/internal/training.h"
#include "libsubset/workflows/select_job.h"

namespace subset::workflows {
namespace fs = std::filesystem;
namespace {

// The sweep is assembled in a hidden sibling directory and renamed into place at the end, like
// AtomicOutput does for single files; removed on any failure or interrupt.
class StagingDir {
 public:
  explicit StagingDir(const fs::path& final_dir)
      : final_(final_dir),
        temp_(final_dir.parent_path() / ("." + final_dir.filename().string() + ".partial-" + std::to_string(getpid()))) {
    io::remove_stale_partials(final_.string());
    std::error_code ec;
    fs::remove_all(temp_, ec);
    SUBSET_CHECK(fs::create_directories(temp_ / "selections", ec) && !ec, temp_.string(),
                 "cannot create the output directory: " << ec.message());
  }
  ~StagingDir() {
    if (committed_) return;
    std::error_code ec;
    fs::remove_all(temp_, ec);
  }
  const fs::path& path() const { return temp_; }
  void commit(bool force) {
    std::error_code ec;
    fs::path old;
    if (fs::exists(final_)) {
      SUBSET_CHECK(force, final_.string(), "exists (pass --force to replace it)");
      old = final_.parent_path() / ("." + final_.filename().string() + ".old-" + std::to_string(getpid()));
      fs::rename(final_, old, ec);
      SUBSET_CHECK(!ec, final_.string(), "cannot move the old results aside: " << ec.message());
    }
    fs::rename(temp_, final_, ec);
    SUBSET_CHECK(!ec, final_.string(), "cannot move the results into place: " << ec.message());
    committed_ = true;
    if (!old.empty()) fs::remove_all(old, ec);
  }

 private:
  fs::path final_;
  fs::path temp_;
  bool committed_ = false;
};

void check_output_dir(const BenchJob& job) {
  SUBSET_CHECK_PARAM(!job.output_dir.empty(), "output", "no output directory given");
  const fs::path dir = fs::absolute(job.output_dir);
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    SUBSET_CHECK(fs::is_directory(dir, ec), job.output_dir, "exists and is not a directory");
    SUBSET_CHECK(job.force, job.output_dir, "exists (pass --force to replace it)");
    // --force replaces the results of an earlier sweep and nothing else: the whole directory goes,
    // so one that holds the store (or a user's files) must never be taken for a sweep.
    const fs::path canonical_dir = fs::canonical(dir, ec);
    const fs::path store = fs::weakly_canonical(fs::absolute(job.store), ec);
    const auto end = std::mismatch(canonical_dir.begin(), canonical_dir.end(), store.begin(), store.end()).first;
    SUBSET_CHECK(end != canonical_dir.end(), job.output_dir,
                 "contains the input store " << job.store << ": --force would delete it");
    SUBSET_CHECK(fs::is_empty(dir, ec) || fs::is_regular_file(dir / "results.json", ec), job.output_dir,
                 "is not the output of an earlier `subset bench` (no results.json): not replaced, even with --force");
  }
  const fs::path parent = dir.parent_path();
  SUBSET_CHECK(fs::is_directory(parent, ec), parent.string(), "parent directory does not exist");
  SUBSET_CHECK(access(parent.c_str(), W_OK) == 0, parent.string(), "parent directory is not writable");
}

// Runs argv and returns its exit status (-1 when it could not be started).
int run_program(const std::vector<std::string>& argv) {
  pid_t pid = 0;
  if (spawn_program(argv, pid) != 0) return -1;
  const int status = wait_for_program(pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void check_plotter(const BenchJob& job) {
  if (job.plot_command.empty()) return;
  std::vector<std::string> argv = job.plot_command;
  argv.push_back("--check");
  SUBSET_CHECK_PARAM(run_program(argv) == 0, "plot",
               "the plotter does not run (`" << job.plot_command.front()
                                             << "` with matplotlib is needed; install python3-matplotlib or pass --no-plot)");
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream f(path);
  f << text;
  f.close();
  SUBSET_CHECK(f, path.string(), "cannot write");
}

// The recorded cost of --embedding, after checking that it embeds `store`; none when unmeasured.
std::optional<energy::EnergyReport> recorded_embedding_energy(const BenchJob& job, const io::FeatureStore& store) {
  if (!job.embedding) return std::nullopt;
  const io::FeatureStore embedding = open_embedding(*job.embedding, store);
  const nlohmann::json& energy = embedding.info().energy;
  if (energy.is_null()) return std::nullopt;
  return energy::report_from_json(energy);
}

}  // namespace

BenchResult run_bench(const BenchJob& job) {
  check_bench_lists(job.methods, job.fractions);
  std::vector<BenchMethod> methods;
  for (const auto& m : job.methods) methods.push_back(parse_bench_method(m));
  bench_schema().check(job);
  check_train_settings(job.training);
  EvaluateJob reference_job;
  reference_job.store = job.store;
  reference_job.training = job.training;
  reference_job.training.seed = job.seed;
  reference_job.repeats = job.repeats;
  reference_job.use_cache = job.use_cache;
  reference_job.meter = job.meter;
  reference_job.status = job.status;
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  internal::check_trainable(store);
  const std::optional<energy::EnergyReport> embedding_energy = recorded_embedding_energy(job, store);
  check_output_dir(job);
  internal::check_cache(reference_job, {job.store});
  check_plotter(job);

  StagingDir staging(fs::absolute(job.output_dir));
  // The staging directory is what is put in place, whole, at the end: the selection files inside
  // it are written there at once, not staged by the command's transaction, which would look for
  // them where the directory no longer is.
  std::optional<io::ImmediateOutputs> immediate(std::in_place);
  BenchResult result;
  result.output_dir = job.output_dir;
  const internal::TrainingData data = internal::load_training_data(store);
  // Every training planned before the first (the full data's by reference_result when not cached);
  // a selection's rows are planned as the fraction of the store's (per class, a few may differ).
  internal::TrainingProgress progress(job.progress);
  const TrainSettings planned = internal::prepared_settings(data, reference_job.training);
  auto planned_rows = [&](double fraction) {
    return std::max<int64_t>(1, std::llround(fraction * static_cast<double>(data.features.rows())));
  };
  for (size_t m = 0; m < methods.size(); ++m)
    for (double fraction : job.fractions) progress.plan(planned_rows(fraction), job.repeats, planned);
  result.reference = internal::reference_result(data, reference_job, &progress);
  const EvaluateResult& ref = result.reference;

  for (const BenchMethod& bm : methods) {
    const std::string& method = bm.label;
    for (double fraction : job.fractions) {
      BenchRow row;
      row.method = method;
      row.fraction = fraction;
      std::vector<internal::MeasuredTraining> trainings;
      std::vector<energy::EnergyReport> selection_reports;
      int64_t selected_rows = 0;
      for (int64_t r = 0; r < job.repeats; ++r) {
        check_interrupted();
        const std::string name = method + "-" + fraction_label(fraction) + "-r" + std::to_string(r) + ".sel.h5";
        if (job.status)
          job.status(method + " " + fraction_label(fraction) + ": repeat " + std::to_string(r + 1) + "/" +
                     std::to_string(job.repeats));
        SelectJob sj;
        sj.store = job.store;
        sj.embedding = job.embedding;
        sj.method = bm.method;
        sj.params = bm.params;
        sj.fraction = fraction;
        sj.per_class = job.per_class;
        sj.seed = job.seed + static_cast<uint64_t>(r);
        sj.output = (staging.path() / "selections" / name).string();
        sj.meter = job.meter;
        const SelectOutcome picked = run_select(sj);
        row.select_seconds.push_back(picked.energy->seconds);
        selection_reports.push_back(*picked.energy);
        const io::SelectionFile& sel = picked.selection;
        row.evaluation.weighted = job.use_weights && !sel.weights.empty();
        const TrainSettings settings =
            progress.track(internal::repeat_settings(reference_job.training, r), planned_rows(fraction),
                           "subset " + method + " " + fraction_label(fraction) + ", repeat " + std::to_string(r + 1) +
                               "/" + std::to_string(job.repeats));
        trainings.push_back(internal::train_measured(data, sel.indices,
                                                     row.evaluation.weighted ? sel.weights : std::vector<float>{},
                                                     settings, job.meter));
        progress.finished();
        selected_rows = static_cast<int64_t>(sel.indices.size());
      }
      SelectionEvaluation& ev = row.evaluation;
      ev.method = method;
      ev.training = internal::summarize(method, selected_rows, trainings);
      ev.path = "selections/" + method + "-" + fraction_label(fraction) + "-r*.sel.h5";
      ev.selection_energy = internal::mean_report(selection_reports);
      row.embedding_energy = embedding_energy;
      if (embedding_energy) ev.selection_energy = energy::add_reports(*embedding_energy, *ev.selection_energy);
      account_savings(ref.full, ev);
      result.rows.push_back(std::move(row));
    }
  }

  write_text(staging.path() / "results.json", to_json(result).dump(2) + "\n");
  write_text(staging.path() / "results.csv", bench_results_csv(result));
  if (!job.plot_command.empty()) {
    std::vector<std::string> argv = job.plot_command;
    argv.push_back((staging.path() / "results.json").string());
    argv.push_back((staging.path() / "plot.png").string());
    SUBSET_CHECK_PARAM(run_program(argv) == 0, "plot", "the plotter failed; rerun with --no-plot to skip the plot");
    result.plotted = true;
  }
  immediate.reset();
  staging.commit(job.force);
  return result;
}

}  // namespace subset::workflows
