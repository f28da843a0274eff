#include "libsubset/workflows/hpo/hpo.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/process.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/internal/training.h"
#include "libsubset/workflows/select_job.h"

namespace subset::workflows::hpo {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPlanFormat = "subset-hpo";

// A coreset to search on: a given selection file, or one this search makes (and keeps in
// DIR/selections/ so that a resumed search reuses it).
struct CoresetSource {
  CoresetInfo info;
  std::string path;
  std::optional<BenchMethod> method;  // set: made here at `fraction`
  double fraction = 0;
  int64_t rung = -1;                  // search halving: the rung it trains, nested in the one before
};

std::string file_stem(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (const char* suffix : {".sel.h5", ".h5"})
    if (name.size() > std::string(suffix).size() && name.compare(name.size() - std::string(suffix).size(), std::string::npos, suffix) == 0)
      return name.substr(0, name.size() - std::string(suffix).size());
  return name;
}

std::vector<CoresetSource> coreset_sources(const HpoJob& job) {
  std::vector<CoresetSource> out;
  for (const std::string& path : job.selections) {
    CoresetSource c;
    c.path = path;
    c.info.id = file_stem(path);
    c.info.label = path;
    out.push_back(std::move(c));
  }
  const bool halving = job.search == "halving";
  std::vector<double> fractions = job.fractions;
  if (halving) std::sort(fractions.begin(), fractions.end());  // the rungs, smallest first
  for (const std::string& m : halving ? halving_methods(job) : job.methods)
    for (size_t r = 0; r < fractions.size(); ++r) {
      const double f = fractions[r];
      CoresetSource c;
      c.method = parse_bench_method(m);
      c.fraction = f;
      c.info.id = m + "-" + fraction_label(f);
      c.info.label = m + " " + fraction_label(f) + (job.per_class ? " per class" : "");
      if (halving) {
        c.rung = static_cast<int64_t>(r);
        if (r > 0) c.info.label += " containing " + m + "-" + fraction_label(fractions[r - 1]);
      }
      c.path = (fs::path(job.output_dir) / "selections" / (c.info.id + ".sel.h5")).string();
      out.push_back(std::move(c));
    }
  std::set<std::string> ids;
  for (const CoresetSource& c : out) {
    SUBSET_CHECK_PARAM(c.info.id != "full", "selection", "a coreset cannot be called 'full' (" << c.path << ")");
    SUBSET_CHECK_PARAM(ids.insert(c.info.id).second, "selection",
                       "two coresets are both called '" << c.info.id << "': rename one of the selection files");
  }
  return out;
}

nlohmann::json plan_json(const HpoJob& job, const HpoPlan& plan, const io::FeatureStore& store,
                         const std::vector<CoresetSource>& sources) {
  nlohmann::json configs = nlohmann::json::array();
  for (const ConfigEntry& c : plan.configs) configs.push_back({{"id", c.id}, {"hash", config_hash(c.config)}, {"config", c.config}});
  nlohmann::json sets = nlohmann::json::array();
  for (const CoresetSource& c : sources) sets.push_back({{"id", c.info.id}, {"label", c.info.label}});
  nlohmann::json out = {{"format", kPlanFormat}, {"store_checksum", store.features_checksum()}, {"space", plan.space_json},
          {"search", job.search}, {"trials", job.trials}, {"seed", std::to_string(job.seed)},
          {"full", job.full}, {"training", train_schema().to_json(job.training, job.training.model)},
          {"sets", sets}, {"configs", configs}};
  if (job.search == "halving") out["eta"] = job.eta;
  return out;
}

// Refuses what a search must not write into, and on --resume a directory holding another search.
void check_output_dir(const HpoJob& job, const nlohmann::json& plan) {
  SUBSET_CHECK_PARAM(!job.output_dir.empty(), "output", "no output directory given");
  const fs::path dir = fs::absolute(job.output_dir);
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    SUBSET_CHECK(fs::is_directory(dir.parent_path(), ec), dir.parent_path().string(), "parent directory does not exist");
    SUBSET_CHECK(access(dir.parent_path().c_str(), W_OK) == 0, dir.parent_path().string(), "parent directory is not writable");
    return;
  }
  SUBSET_CHECK(fs::is_directory(dir, ec), job.output_dir, "exists and is not a directory");
  SUBSET_CHECK(access(dir.c_str(), W_OK) == 0, job.output_dir, "is not writable");
  const bool has_trials = fs::file_size(dir / "trials.jsonl", ec) > 0 && !ec;
  SUBSET_CHECK(!has_trials || job.resume, job.output_dir,
               "holds the trials of an earlier search (pass --resume to continue it, or name another directory)");
  std::ifstream in(dir / "hpo.json");
  if (!in) {
    SUBSET_CHECK(!has_trials, (dir / "hpo.json").string(), "is missing: the trials cannot be matched to a search");
    return;
  }
  nlohmann::json earlier;
  try {
    earlier = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception&) {
    SUBSET_FAIL((dir / "hpo.json").string(), "is not the plan of a `subset hpo` search");
  }
  SUBSET_CHECK(earlier.is_object() && earlier.value("format", "") == kPlanFormat, (dir / "hpo.json").string(),
               "is not the plan of a `subset hpo` search");
  if (!job.resume) return;  // no trials yet: this search replaces the plan
  for (const auto& [key, value] : plan.items())
    SUBSET_CHECK(earlier.value(key, nlohmann::json()) == value, job.output_dir,
                 "was searched with another " << key << ": --resume continues the same search only");
}

void write_file(const fs::path& path, const std::string& text) {
  io::AtomicOutput out(path.string(), true);
  std::ofstream f(out.temp_path());
  f << text;
  f.close();
  SUBSET_CHECK(f, path.string(), "cannot write");
  out.commit();
}

void check_plotter(const std::vector<std::string>& command) {
  if (command.empty()) return;
  std::vector<std::string> argv = command;
  argv.push_back("--check");
  pid_t pid = 0;
  const bool ran = spawn_program(argv, pid) == 0;
  const int status = ran ? wait_for_program(pid) : -1;
  SUBSET_CHECK_PARAM(ran && WIFEXITED(status) && WEXITSTATUS(status) == 0, "plot",
                     "the plotter does not run (`" << command.front()
                                                   << "` with matplotlib is needed; install python3-matplotlib or pass --no-plot)");
}

bool run_plotter(const std::vector<std::string>& command, const std::string& dir) {
  if (command.empty()) return false;
  std::vector<std::string> argv = command;
  argv.push_back(dir);
  pid_t pid = 0;
  SUBSET_CHECK_PARAM(spawn_program(argv, pid) == 0, "plot", "cannot start the plotter " << command.front());
  const int status = wait_for_program(pid);
  SUBSET_CHECK_PARAM(WIFEXITED(status) && WEXITSTATUS(status) == 0, "plot",
                     "the plotter failed; rerun with --no-plot to skip the plot");
  return true;
}

// The coreset's rows: made now (measured) unless an earlier run of this search left the file; a
// halving rung's coreset is made around the previous rung's rows (`contains`).
io::SelectionFile load_coreset(const HpoJob& job, CoresetSource& c, const io::FeatureStore& store,
                               const std::vector<int64_t>& contains = {}) {
  std::error_code ec;
  if (c.method && !fs::exists(c.path, ec)) {
    if (job.status) job.status("selecting " + c.info.label);
    SelectJob sj;
    sj.store = job.store;
    sj.method = c.method->method;
    sj.params = c.method->params;
    sj.fraction = c.fraction;
    sj.per_class = job.per_class;
    sj.seed = job.seed;
    sj.output = c.path;
    sj.meter = job.meter;
    sj.already_selected = contains;
    run_select(sj);
  }
  io::SelectionFile sel = io::read_selection(c.path);
  io::check_selection_matches(sel.manifest, store, c.path);
  c.info.n = static_cast<int64_t>(sel.indices.size());
  if (!sel.manifest.energy.is_null())
    c.info.selection_energy = energy::reprice(energy::report_from_json(sel.manifest.energy), job.meter.accounting);
  return sel;
}

struct Search {
  const HpoJob& job;
  const internal::TrainingData& data;
  std::string ledger;
  std::map<std::string, TrialRecord> done;  // by key
  std::vector<TrialRecord> order;           // ledger order
  int64_t trained = 0, resumed = 0, total = 0;

  const TrialRecord& train(const ConfigEntry& c, const std::string& set, const io::SelectionFile* sel,
                           int64_t rung = -1) {
    TrialRecord t;
    t.config_id = c.id;
    t.config_hash = config_hash(c.config);
    t.config = c.config;
    t.set = set;
    t.rung = rung;
    if (const auto it = done.find(t.key()); it != done.end()) return it->second;
    check_interrupted();
    if (job.status)
      job.status(c.id + " on " + set + " (" + std::to_string(trained + resumed + 1) + "/" + std::to_string(total) +
                 "): " + config_text(c.config));
    TrainSettings s = apply_config(job.training, c.config);
    s.seed = job.seed;
    const std::vector<int64_t> rows = sel ? sel->indices : std::vector<int64_t>{};
    const std::vector<float> weights = sel ? sel->weights : std::vector<float>{};
    const internal::MeasuredTraining m = internal::train_measured(data, rows, weights, s, job.meter);
    t.n = sel ? static_cast<int64_t>(rows.size()) : data.features.rows();
    t.accuracy = m.accuracy;
    t.seconds = m.seconds;
    t.epochs = m.epochs;
    t.best_epoch = m.best_epoch;
    t.validation_accuracy = m.validation_accuracy;
    t.energy = m.energy;
    append_trial(ledger, t);
    order.push_back(t);
    ++trained;
    return done[t.key()] = t;
  }
};

// The configurations trained on the full data: all, none, or the union of each coreset's K best.
std::vector<const ConfigEntry*> full_configs(const HpoPlan& plan, const std::vector<CoresetSource>& sources,
                                             const Search& search, int64_t k) {
  std::vector<const ConfigEntry*> out;
  if (k == 0) return out;
  std::set<std::string> chosen;
  for (const CoresetSource& c : sources) {
    std::vector<std::pair<double, size_t>> ranked;
    for (size_t i = 0; i < plan.configs.size(); ++i) {
      const auto it = search.done.find(config_hash(plan.configs[i].config) + "/" + c.info.id);
      if (it != search.done.end()) ranked.emplace_back(-it->second.accuracy, i);
    }
    std::stable_sort(ranked.begin(), ranked.end());
    for (size_t r = 0; r < ranked.size() && static_cast<int64_t>(r) < k; ++r) chosen.insert(plan.configs[ranked[r].second].id);
  }
  for (const ConfigEntry& c : plan.configs)
    if (k < 0 || chosen.count(c.id)) out.push_back(&c);
  return out;
}

// Each halving rung must add rows to the one it contains; found before any work, not at its turn.
void check_rungs_grow(const HpoJob& job, int64_t n) {
  std::vector<double> fractions = job.fractions;
  std::sort(fractions.begin(), fractions.end());
  for (size_t r = 1; r < fractions.size(); ++r) {
    const auto rows = [n](double f) { return std::max<int64_t>(1, std::llround(f * static_cast<double>(n))); };
    SUBSET_CHECK_PARAM(rows(fractions[r]) > rows(fractions[r - 1]), "fractions",
                       "fraction " << fractions[r] << " gives " << rows(fractions[r]) << " rows, not more than the "
                                   << rows(fractions[r - 1]) << " of the rung below it");
  }
}

// A successive halving of one coreset method, its rungs as trained.
struct HalvingRun {
  std::string method;
  std::vector<RungSet> rungs;
};

// Every halving search (docs/hpo.md, "Successive halving"): per method, its nested coresets (each
// made around the previous one's rows), then the rungs walked on validation accuracy up to the full
// data. `sources` holds the methods' coresets in order, fractions.size() per method.
std::vector<HalvingRun> run_halving(const HpoJob& job, const HpoPlan& plan, std::vector<CoresetSource>& sources,
                                    const io::FeatureStore& store, Search& search, std::vector<CoresetInfo>& coresets) {
  std::vector<HalvingRun> runs;
  const size_t per_method = job.fractions.size();
  for (size_t m = 0; m < plan.halving_methods.size(); ++m) {
    HalvingRun run{plan.halving_methods[m], {}};
    std::vector<io::SelectionFile> sels;
    for (size_t r = 0; r < per_method; ++r) {
      CoresetSource& c = sources[m * per_method + r];
      sels.push_back(load_coreset(job, c, store, sels.empty() ? std::vector<int64_t>{} : sels.back().indices));
      coresets.push_back(c.info);
      run.rungs.push_back({c.info.id, c.fraction, c.info.n, c.info.selection_energy ? c.info.selection_energy->kwh() : 0.0});
    }
    run.rungs.push_back({"full", 1.0, search.data.features.rows(), 0.0});
    walk_rungs(plan.configs.size(), run.rungs.size(), job.eta, [&](size_t rung, size_t config) {
      const bool full = rung == sels.size();
      return search.train(plan.configs[config], run.rungs[rung].set, full ? nullptr : &sels[rung],
                          full ? -1 : static_cast<int64_t>(rung))
          .validation_accuracy;
    });
    runs.push_back(std::move(run));
  }
  return runs;
}

// Holds a search directory for the whole run. Two searches in one directory would append to one
// ledger and train everything twice; an flock on the directory itself leaves no file behind and
// is released by the kernel however the process ends (kill -9 included).
class DirectoryLock {
 public:
  explicit DirectoryLock(const fs::path& dir) : fd_(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
    SUBSET_CHECK(fd_ >= 0, dir.string(), "cannot open the output directory: " << std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd_);
      SUBSET_CHECK(error != EWOULDBLOCK, dir.string(),
                   "another subset hpo is running in this directory; wait for it, or use another -o");
      SUBSET_FAIL(dir.string(), "cannot lock the output directory: " << std::strerror(error));
    }
  }
  ~DirectoryLock() { ::close(fd_); }
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  int fd_;
};

}  // namespace

HpoResult run_hpo(const HpoJob& job) {
  const HpoPlan plan = plan_hpo(job);
  const int64_t k = full_top_k(job.full);
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  internal::check_trainable(store);
  std::vector<CoresetSource> sources = coreset_sources(job);
  if (!plan.halving_methods.empty()) check_rungs_grow(job, store.info().n());
  for (const CoresetSource& c : sources)
    if (!c.method) io::check_selection_matches(io::read_selection(c.path).manifest, store, c.path);
  const nlohmann::json plan_record = plan_json(job, plan, store, sources);
  check_output_dir(job, plan_record);
  check_plotter(job.plot_command);

  // Everything here must survive a kill: the ledger, the plan and the selections are put in place
  // as they are written, not at the end of the command.
  io::ImmediateOutputs immediate;
  const fs::path dir = fs::absolute(job.output_dir);
  std::error_code ec;
  fs::create_directories(dir / "selections", ec);
  SUBSET_CHECK(!ec, job.output_dir, "cannot create the output directory: " << ec.message());
  const DirectoryLock held(dir);
  write_file(dir / "hpo.json", plan_record.dump(2) + "\n");

  const internal::TrainingData data = internal::load_training_data(store);
  Search search{job, data, (dir / "trials.jsonl").string(), {}, {}, 0, 0, 0};
  std::vector<std::string> notes = plan.notes;
  const LedgerContents ledger = read_ledger(search.ledger);
  if (ledger.torn) {
    truncate_ledger(search.ledger, ledger.whole_bytes);
    notes.push_back("the ledger's last line was cut short by an interruption and was dropped; that training ran again");
  }
  for (const TrialRecord& t : ledger.trials)
    if (search.done.emplace(t.key(), t).second) search.order.push_back(t);
  search.resumed = static_cast<int64_t>(search.order.size());
  const auto configs = static_cast<int64_t>(plan.configs.size());
  search.total = configs * static_cast<int64_t>(sources.size()) + (k < 0 ? configs : 0);
  std::vector<HalvingRun> halving;
  if (!plan.halving_methods.empty()) {
    int64_t per_search = 0;
    for (int64_t n : rung_sizes(configs, static_cast<int64_t>(job.fractions.size()) + 1, job.eta)) per_search += n;
    search.total = per_search * static_cast<int64_t>(plan.halving_methods.size()) + (k < 0 ? configs : 0);
  }

  std::vector<CoresetInfo> coresets;
  if (!plan.halving_methods.empty()) halving = run_halving(job, plan, sources, store, search, coresets);
  else
    for (CoresetSource& c : sources) {
      const io::SelectionFile sel = load_coreset(job, c, store);
      for (const ConfigEntry& config : plan.configs) search.train(config, c.info.id, &sel);
      coresets.push_back(c.info);
    }
  for (const ConfigEntry* config : full_configs(plan, sources, search, k)) search.train(*config, "full", nullptr);
  if (search.resumed > 0)
    notes.push_back(std::to_string(search.resumed) + " trainings resumed from the ledger, " +
                    std::to_string(search.trained) + " run now");
  if (k > 0)
    notes.push_back("--full " + job.full + ": rankings compare only the configurations retrained on the full data");

  HpoResult result;
  result.output_dir = job.output_dir;
  result.trained = search.trained;
  result.resumed = search.resumed;
  result.report = make_report(plan.configs, coresets, search.order, notes);
  for (const HalvingRun& h : halving)
    result.report.halving.push_back(summarize_halving(result.report, h.method, h.rungs, job.eta));
  write_file(dir / "results.json", to_json(result.report).dump(2) + "\n");
  write_file(dir / "results.csv", hpo_results_csv(result.report));
  if (!halving.empty()) write_file(dir / "halving.csv", halving_csv(result.report.halving));
  result.plotted = run_plotter(job.plot_command, dir.string());
  return result;
}

}  // namespace subset::workflows::hpo
