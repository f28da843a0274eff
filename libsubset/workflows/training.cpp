#include "libsubset/workflows/internal/training.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store.h"
#include "libsubset/nn/condense.h"
#include "libsubset/nn/gemm_backend.h"

namespace subset::workflows::internal {
namespace {

RowMatrixF read_checked(const io::FeatureArray& array, const std::string& where) {
  RowMatrixF m = array.read_all();
  const int64_t bad = find_non_finite(m.data(), static_cast<size_t>(m.size()));
  SUBSET_CHECK(bad < 0, where, "NaN or Inf in features at row " << bad / m.cols());
  return m;
}

template <typename T>
unsigned long crc_of(unsigned long crc, const T* values, size_t count) {
  return crc32_z(crc, reinterpret_cast<const unsigned char*>(values), count * sizeof(T));
}

nlohmann::json cache_key(const TrainingData& data, const EvaluateJob& job) {
  const TrainSettings t = prepared_settings(data, job.training);
  // The features' checksum alone let a store re-imported with other labels, or with another test
  // split, reuse figures measured on different data: everything training and testing read is in
  // the key.
  const unsigned long labels_crc = crc_of(0, data.labels.data(), data.labels.size());
  unsigned long test_crc = crc_of(0, data.test_features.data(), static_cast<size_t>(data.test_features.size()));
  test_crc = crc_of(test_crc, data.test_labels.data(), data.test_labels.size());
  // Energy and time depend on the machine's parallelism as much as on the settings.
  nlohmann::json key = {{"store_checksum", data.checksum}, {"n", data.features.rows()}, {"model", t.model},
                        {"labels_checksum", io::format_checksum(labels_crc)},
                        {"weights_checksum", data.weights_checksum.empty() ? "none" : data.weights_checksum},
                        {"test_n", data.test_features.rows()}, {"test_checksum", io::format_checksum(test_crc)},
                        {"hidden", t.hidden}, {"batch", t.batch},
                        {"learning_rate", *t.learning_rate}, {"seed", std::to_string(t.seed)},
                        {"repeats", job.repeats}, {"device", t.device}, {"threads", current_threads()},
                        {"backend", nn::gemm_backend()}, {"libsubset", kVersion}};
  // The schedule and its parameters (resolved: only those of the schedule are set); "epochs" is
  // null under steps.
  key["schedule"] = t.schedule;
  key["epochs"] = t.epochs ? nlohmann::json(*t.epochs) : nlohmann::json(nullptr);
  if (t.steps) key["steps"] = *t.steps;
  if (t.patience) key["patience"] = *t.patience;
  if (t.validation) key["validation"] = *t.validation;
  // Only away from their defaults, so that the entries made before these options existed still
  // match the same trainings.
  if (t.depth != 1) key["depth"] = t.depth;
  if (t.dropout != 0) key["dropout"] = t.dropout;
  if (t.model != "convnet" && *t.weight_decay != 0) key["weight_decay"] = *t.weight_decay;
  if (t.model == "convnet") {
    // The protocol's own settings and what the network sees; "protocol" names what is fixed in
    // the code (network, schedule), so that a change there can retire old entries.
    key["augment"] = t.augment;
    key["momentum"] = t.momentum;
    key["weight_decay"] = *t.weight_decay;
    key["image_shape"] = t.image_shape;
    key["channel_mean"] = t.channel_mean;
    key["channel_stddev"] = t.channel_stddev;
    key["protocol"] = "convnet width 128 depth 3 instancenorm; sgd, lr x0.1 after ceil(epochs/2)";
  }
  return key;
}

std::string cache_path_of(const EvaluateJob& job) {
  return job.cache_path.empty() ? job.store + ".evaluate-cache.json" : job.cache_path;
}

constexpr const char* kCacheFormat = "subset-evaluate-cache";

// What lies at the cache path. Only a missing file or one of ours is ever written: the path is
// user-given, and it once replaced the input store itself with a page of JSON.
struct CacheFile {
  bool exists = false;
  nlohmann::json json;  // a cache of ours: {"format": ..., "entries": [...]}
  std::string problem;  // set when something exists that is not a cache of ours
};

CacheFile read_cache(const std::string& path, const std::string& elsewhere) {
  CacheFile c;
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return c;
    c.exists = true;
    c.problem = std::string("cannot be examined: ") + std::strerror(errno);
    return c;
  }
  c.exists = true;
  if (S_ISDIR(st.st_mode)) {
    c.problem = "is a directory: the evaluate cache is a file; " + elsewhere;
    return c;
  }
  if (!S_ISREG(st.st_mode)) {
    c.problem = "is not a regular file, so it cannot be an evaluate cache";
    return c;
  }
  const std::string foreign =
      "exists and is not an evaluate cache (JSON with format \"" + std::string(kCacheFormat) +
      "\"), so it is not overwritten: remove it or " + elsewhere;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    c.problem = std::string("cannot be read: ") + std::strerror(errno);
    return c;
  }
  // A store or any other binary file is told apart by its first byte, without reading it all.
  char first = 0;
  while (in.get(first) && std::isspace(static_cast<unsigned char>(first))) {
  }
  if (!in || first != '{') {
    c.problem = foreign;
    return c;
  }
  in.seekg(0);
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (j.is_object() && j.value("format", "") == kCacheFormat && j.contains("entries") && j["entries"].is_array()) {
      c.json = std::move(j);
      return c;
    }
  } catch (const nlohmann::json::exception&) {
  }
  c.problem = foreign;
  return c;
}

nlohmann::json runs_to_cache(const TrainingRuns& runs) {
  return {{"n", runs.n}, {"accuracies", runs.accuracies}, {"seconds", runs.seconds}, {"epochs", runs.epochs},
          {"best_epochs", runs.best_epochs}, {"validation_accuracies", runs.validation_accuracies},
          {"energy", energy::to_json(runs.energy)}};
}

TrainingRuns runs_from_cache(const nlohmann::json& j) {
  TrainingRuns runs;
  runs.label = "full";
  runs.backend = nn::gemm_backend();  // part of the key the entry was found by
  runs.n = j.at("n").get<int64_t>();
  runs.accuracies = j.at("accuracies").get<std::vector<double>>();
  runs.seconds = j.at("seconds").get<std::vector<double>>();
  runs.epochs = j.at("epochs").get<std::vector<int64_t>>();
  runs.best_epochs = j.at("best_epochs").get<std::vector<int64_t>>();
  runs.validation_accuracies = j.at("validation_accuracies").get<std::vector<double>>();
  runs.energy = energy::report_from_json(j.at("energy"));
  SUBSET_CHECK(!runs.accuracies.empty() && runs.accuracies.size() == runs.seconds.size(), "cache", "malformed entry");
  double sum = 0;
  for (double a : runs.accuracies) sum += a;
  runs.accuracy_mean = sum / static_cast<double>(runs.accuracies.size());
  double ss = 0;
  for (double a : runs.accuracies) ss += (a - runs.accuracy_mean) * (a - runs.accuracy_mean);
  runs.accuracy_std = runs.accuracies.size() > 1 ? std::sqrt(ss / static_cast<double>(runs.accuracies.size() - 1)) : 0.0;
  runs.cached = true;
  return runs;
}

void write_cache(const std::string& path, nlohmann::json cache, const nlohmann::json& key, const TrainingRuns& runs) {
  if (!cache.contains("entries")) cache = {{"format", kCacheFormat}, {"entries", nlohmann::json::array()}};
  auto& entries = cache["entries"];
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [&](const nlohmann::json& e) { return e.is_object() && e.value("key", nlohmann::json()) == key; }),
                entries.end());
  entries.push_back({{"key", key}, {"full", runs_to_cache(runs)}});
  io::AtomicOutput out(path, true);
  std::ofstream f(out.temp_path());
  f << cache.dump(1) << "\n";
  f.close();
  SUBSET_CHECK(f, path, "cannot write the evaluate cache");
  out.commit();
}

}  // namespace

int64_t TrainingProgress::share_of(int64_t rows, const TrainSettings& settings) {
  if (settings.schedule == "steps" && settings.steps) return std::max<int64_t>(1, *settings.steps * settings.batch);
  return std::max<int64_t>(1, std::max<int64_t>(rows, 1) * settings.epochs.value_or(1));
}

void TrainingProgress::plan(int64_t rows, int64_t count, const TrainSettings& settings) {
  if (!report_) return;
  total_ += share_of(rows, settings) * count;
  capped_ = capped_ || settings.schedule == "early-stop";
}

TrainSettings TrainingProgress::track(const TrainSettings& settings, int64_t rows, const std::string& what) {
  TrainSettings s = settings;
  if (!report_) return s;
  share_ = share_of(rows, resolve_defaults(settings));
  what_ = what;
  s.on_epoch = [this, own = settings.on_epoch, capped = resolve_defaults(settings).schedule == "early-stop"](
                   int64_t epoch, int64_t epochs, double loss) {
    if (own) own(epoch, epochs, loss);
    const double f = epochs > 0 ? std::min(1.0, static_cast<double>(epoch) / static_cast<double>(epochs)) : 1.0;
    ProgressUpdate u;
    u.done = std::min(total_, base_ + static_cast<int64_t>(f * static_cast<double>(share_)));
    u.total = total_;
    u.total_is_cap = capped_;
    u.what = what_ + ": epoch " + std::to_string(epoch) + (capped ? " of at most " : "/") + std::to_string(epochs);
    report_(u);
  };
  return s;
}

void TrainingProgress::finished() {
  if (!report_) return;
  base_ = std::min(total_, base_ + share_);
  share_ = 0;
  ProgressUpdate u;
  u.done = base_;
  u.total = total_;
  u.total_is_cap = capped_;
  u.what = what_ + ": trained";
  report_(u);
}

void check_trainable(const io::FeatureStore& store) {
  const io::StoreInfo& info = store.info();
  const std::string& store_path = info.path;
  SUBSET_CHECK(info.has_labels, store_path, "store has no /labels: evaluation needs labelled training data");
  SUBSET_CHECK(info.has_test, store_path, "store has no /test split: evaluation needs held-out data to test on");
  SUBSET_CHECK(info.has_test_labels, store_path, "store has no /test/labels: evaluation needs labelled test data");
}

TrainingData load_training_data(const io::FeatureStore& store) {
  const std::string& store_path = store.info().path;
  TrainingData d;
  d.path = store_path;
  d.checksum = store.features_checksum();
  d.features = read_checked(store.features(io::Split::Train), store_path + ":/features");
  d.labels = store.labels(io::Split::Train);
  d.test_features = read_checked(store.features(io::Split::Test), store_path + ":/test/features");
  d.test_labels = store.labels(io::Split::Test);
  if (store.info().has_weights) {
    const std::vector<float> w = store.weights();
    d.weights_checksum = io::format_checksum(crc_of(0, w.data(), w.size()));
  }
  int64_t largest = store.info().num_classes() - 1;
  for (int64_t y : d.test_labels) largest = std::max(largest, y);
  d.num_classes = largest + 1;
  d.image_shape = store.info().image_shape;
  if (!d.image_shape.empty()) {
    // One pass over the rows; what the ConvNet standardises with (the reference's dataset constants).
    const nn::ChannelStatistics stats =
        nn::channel_statistics(d.features.data(), d.features.rows(), d.features.cols(), d.image_shape.front());
    d.channel_mean = stats.mean;
    d.channel_stddev = stats.stddev;
  }
  return d;
}

TrainSettings repeat_settings(const TrainSettings& base, int64_t repeat) {
  TrainSettings s = base;
  s.seed = base.seed + static_cast<uint64_t>(repeat);
  return s;
}

TrainSettings prepared_settings(const TrainingData& data, const TrainSettings& settings) {
  TrainSettings s = resolve_defaults(settings);
  if (s.model != "convnet") return s;
  if (s.image_shape.empty()) s.image_shape = data.image_shape;
  if (s.channel_mean.empty() && s.image_shape == data.image_shape) {
    s.channel_mean = data.channel_mean;
    s.channel_stddev = data.channel_stddev;
  }
  return s;
}

namespace {

// Runs `train` (given data's /test view and the prepared settings) inside the meter's scope, so that
// whatever it does first (gathering a subset's rows) counts as part of the training.
MeasuredTraining measure(const TrainingData& data, const TrainSettings& settings,
                         const energy::MeterOptions& meter_options,
                         const std::function<nn::TrainOutcome(const nn::LabelledView& test, const TrainSettings&)>& train) {
  const int64_t dim = data.features.cols();
  nn::LabelledView test{data.test_features.data(), data.test_labels.data(), nullptr, data.test_features.rows(), dim};
  TrainSettings checked = prepared_settings(data, settings);
  checked.on_epoch = [&settings](int64_t epoch, int64_t epochs, double loss) {
    check_interrupted();
    if (settings.on_epoch) settings.on_epoch(epoch, epochs, loss);
  };
  energy::EnergyMeter meter(meter_options);
  meter.start();
  const auto t0 = std::chrono::steady_clock::now();
  const nn::TrainOutcome outcome = train(test, checked);
  MeasuredTraining m;
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.energy = meter.stop();
  m.accuracy = outcome.test_accuracy;
  m.epochs = outcome.epochs;
  m.best_epoch = outcome.best_epoch;
  m.validation_accuracy = outcome.validation_accuracy;
  return m;
}

}  // namespace

MeasuredTraining train_measured(const TrainingData& data, const std::vector<int64_t>& rows,
                                const std::vector<float>& weights, const TrainSettings& settings,
                                const energy::MeterOptions& meter_options) {
  return measure(data, settings, meter_options, [&](const nn::LabelledView& test, const TrainSettings& checked) {
    const int64_t dim = data.features.cols();
    if (rows.empty()) {
      nn::LabelledView train{data.features.data(), data.labels.data(), nullptr, data.features.rows(), dim};
      return nn::train_and_test(train, test, data.num_classes, checked);
    }
    // Gathering the rows is part of what training on a subset costs, so it is inside the scope.
    RowMatrixF x(static_cast<Eigen::Index>(rows.size()), dim);
    std::vector<int64_t> y(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      x.row(static_cast<Eigen::Index>(i)) = data.features.row(rows[i]);
      y[i] = data.labels[static_cast<size_t>(rows[i])];
    }
    nn::LabelledView train{x.data(), y.data(), weights.empty() ? nullptr : weights.data(), x.rows(), dim};
    return nn::train_and_test(train, test, data.num_classes, checked);
  });
}

MeasuredTraining train_measured_on(const TrainingData& data, const RowMatrixF& features,
                                   const std::vector<int64_t>& labels, const std::vector<float>& weights,
                                   const TrainSettings& settings, const energy::MeterOptions& meter_options) {
  return measure(data, settings, meter_options, [&](const nn::LabelledView& test, const TrainSettings& checked) {
    nn::LabelledView train{features.data(), labels.data(), weights.empty() ? nullptr : weights.data(), features.rows(),
                           features.cols()};
    return nn::train_and_test(train, test, data.num_classes, checked);
  });
}

energy::EnergyReport mean_report(const std::vector<energy::EnergyReport>& reports) {
  if (reports.empty()) return {};
  energy::EnergyReport sum = reports.front();
  for (size_t i = 1; i < reports.size(); ++i) sum = energy::add_reports(sum, reports[i]);
  const double k = 1.0 / static_cast<double>(reports.size());
  sum.seconds *= k;
  sum.cpu_seconds *= k;
  for (auto& c : sum.components) {
    c.joules *= k;
    c.static_joules *= k;
    // add_reports joins the per-scope descriptions; one stands for all, with the count.
    if (reports.size() > 1) {
      for (const auto& first : reports.front().components)
        if (first.name == c.name) c.method = "mean of " + std::to_string(reports.size()) + " runs; the first: " + first.method;
    }
  }
  return sum;
}

TrainingRuns summarize(const std::string& label, int64_t n, const std::vector<MeasuredTraining>& repeats) {
  TrainingRuns runs;
  runs.label = label;
  runs.n = n;
  runs.backend = nn::gemm_backend();
  std::vector<energy::EnergyReport> reports;
  for (const auto& r : repeats) {
    runs.accuracies.push_back(r.accuracy);
    runs.seconds.push_back(r.seconds);
    runs.epochs.push_back(r.epochs);
    runs.best_epochs.push_back(r.best_epoch);
    if (r.validation_accuracy) runs.validation_accuracies.push_back(*r.validation_accuracy);
    reports.push_back(r.energy);
  }
  const double count = static_cast<double>(repeats.size());
  double sum = 0;
  for (double a : runs.accuracies) sum += a;
  runs.accuracy_mean = repeats.empty() ? 0.0 : sum / count;
  double ss = 0;
  for (double a : runs.accuracies) ss += (a - runs.accuracy_mean) * (a - runs.accuracy_mean);
  runs.accuracy_std = repeats.size() > 1 ? std::sqrt(ss / (count - 1)) : 0.0;
  runs.energy = mean_report(reports);
  return runs;
}

namespace {

std::string elsewhere_hint(const EvaluateJob& job) {
  return job.cache_path.empty() ? "move it away (evaluate can also cache elsewhere: --cache)"
                                : "name another cache file with --cache";
}

}  // namespace

void check_cache(const EvaluateJob& job, const std::vector<std::string>& inputs) {
  if (!job.train_full) return;  // no full-data trainings: the cache is neither read nor written
  const std::string path = cache_path_of(job);
  // By device and inode: another name (a link, "./s.h5") for an input is that input.
  for (const auto& input : inputs)
    if (io::same_file(path, input))
      SUBSET_FAIL(path, "the evaluate cache would be written over " << input
                                                                    << ", an input of this run: name another cache file"
                                                                    << (job.cache_path.empty() ? "" : " with --cache"));
  const CacheFile c = read_cache(path, elsewhere_hint(job));
  SUBSET_CHECK(c.problem.empty(), path, c.problem);
  if (!c.exists && !job.cache_path.empty()) {
    // A default cache next to a read-only store is only noted as not written; a --cache in a
    // directory that does not exist is a mistake worth saying before the trainings.
    io::check_output_path(path, /*force=*/true);
  }
}

TrainingRuns full_reference(const TrainingData& data, const EvaluateJob& job, std::vector<std::string>& notes,
                            TrainingProgress* progress) {
  const std::string path = cache_path_of(job);
  const nlohmann::json key = cache_key(data, job);
  // --no-cache skips reading only: the fresh figures replace the entry, as the user asked for them.
  if (job.use_cache) {
    const CacheFile cache = read_cache(path, elsewhere_hint(job));
    SUBSET_CHECK(cache.problem.empty(), path, cache.problem);
    if (cache.json.contains("entries")) {
      for (const auto& e : cache.json["entries"]) {
        if (!e.is_object() || e.value("key", nlohmann::json()) != key) continue;
        try {
          TrainingRuns runs = runs_from_cache(e.at("full"));
          runs.energy = energy::reprice(runs.energy, job.meter.accounting);
          notes.push_back("full-data figures are cached from an earlier run with the same data and settings (" + path +
                          "); pass --no-cache to measure them again");
          return runs;
        } catch (const std::exception&) {
          break;  // a damaged entry is measured again and replaced
        }
      }
    }
  }
  std::vector<MeasuredTraining> repeats;
  if (progress) progress->plan(data.features.rows(), job.repeats, prepared_settings(data, job.training));
  for (int64_t r = 0; r < job.repeats; ++r) {
    if (job.status) job.status("full data: training " + std::to_string(r + 1) + "/" + std::to_string(job.repeats));
    TrainSettings s = repeat_settings(job.training, r);
    if (progress)
      s = progress->track(s, data.features.rows(),
                          "full data, repeat " + std::to_string(r + 1) + "/" + std::to_string(job.repeats));
    repeats.push_back(train_measured(data, {}, {}, s, job.meter));
    if (progress) progress->finished();
  }
  TrainingRuns runs = summarize("full", data.features.rows(), repeats);
  // Read again: another run may have added entries meanwhile, or put something else there.
  const CacheFile cache = read_cache(path, elsewhere_hint(job));
  if (!cache.problem.empty()) {
    notes.push_back("full-data figures not cached: " + path + " " + cache.problem);
    return runs;
  }
  try {
    write_cache(path, cache.json, key, runs);
  } catch (const Error& e) {
    notes.push_back("full-data figures not cached: " + e.message() + " (" + e.where() + ")");
  }
  return runs;
}

EvaluateResult reference_result(const TrainingData& data, const EvaluateJob& job, TrainingProgress* progress) {
  EvaluateResult result;
  result.store = job.store;
  result.training = resolve_defaults(job.training);
  result.training.on_epoch = nullptr;
  result.repeats = job.repeats;
  result.accounting = job.meter.accounting;
  result.has_full = job.train_full;
  if (job.train_full) {
    result.full = full_reference(data, job, result.notes, progress);
  } else {
    result.full.label = "full";
    result.notes.push_back("no full-data trainings (--no-full): no reference to compare against, so no energy "
                           "saved or break-even is reported");
  }
  return result;
}

}  // namespace subset::workflows::internal
