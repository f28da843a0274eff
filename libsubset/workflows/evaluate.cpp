#include "libsubset/workflows/evaluate.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/internal/training.h"

namespace subset::workflows {
namespace {

void check_settings(const EvaluateJob& job) {
  evaluate_schema().check(job);
  check_train_settings(job.training);
  SUBSET_CHECK_PARAM(job.train_full || !job.selections.empty() || !job.selection_stores.empty(), "no-full",
               "nothing to train: --no-full skips the full data and no -s or --selection-store was given");
}

std::string shape_text(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "none";
  std::ostringstream os;
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "x" : "") << shape[i];
  return os.str();
}

// The classes of `store` as training and testing see them: 1 + the largest label of either split
// (or the number of class names), known from the metadata without reading the features.
int64_t classes_of(const io::StoreInfo& info) {
  int64_t largest = info.num_classes() - 1;
  for (const auto& [label, count] : info.test_class_counts) largest = std::max(largest, label);
  return largest + 1;
}

// A selection store, opened and checked against the evaluated store before any training.
struct SelectionStore {
  std::string path;
  io::FeatureStore store;
};

SelectionStore open_selection_store(const std::string& path, const io::StoreInfo& reference, const EvaluateJob& job) {
  SelectionStore s{path, io::FeatureStore::open(path)};
  const io::StoreInfo& info = s.store.info();
  SUBSET_CHECK(info.has_labels, path, "selection store has no /labels: its rows cannot be trained on");
  SUBSET_CHECK(info.n() > 0, path, "selection store has no rows");
  SUBSET_CHECK(info.dim() == reference.dim(), path,
               "selection store rows have " << info.dim() << " features, " << reference.path << " has "
                                            << reference.dim());
  if (job.training.model == "convnet")
    SUBSET_CHECK(info.image_shape == reference.image_shape, path,
                 "selection store image shape " << shape_text(info.image_shape) << " differs from "
                                                << shape_text(reference.image_shape) << " of " << reference.path);
  const int64_t classes = classes_of(reference);
  for (const auto& [label, count] : info.class_counts)
    SUBSET_CHECK(label >= 0 && label < classes, path,
                 "label " << label << " (" << count << " rows) is not one of the " << classes << " classes of "
                          << reference.path);
  return s;
}

}  // namespace

EvaluateResult run_evaluate(const EvaluateJob& job) {
  check_settings(job);
  {
    std::vector<std::string> inputs{job.store};
    inputs.insert(inputs.end(), job.selections.begin(), job.selections.end());
    inputs.insert(inputs.end(), job.selection_stores.begin(), job.selection_stores.end());
    internal::check_cache(job, inputs);
  }
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  internal::check_trainable(store);
  if (job.training.model == "convnet")
    SUBSET_CHECK(!store.info().image_shape.empty(), job.store,
                 "--model convnet needs images, and the store records no image_shape [C, H, W]");
  std::vector<io::SelectionFile> selections;
  for (const auto& path : job.selections) {
    io::SelectionFile sel = io::read_selection(path);
    io::check_selection_matches(sel.manifest, store, path);
    SUBSET_CHECK(!sel.indices.empty(), path, "selection is empty");
    selections.push_back(std::move(sel));
  }
  std::vector<SelectionStore> stores;
  for (const auto& path : job.selection_stores) stores.push_back(open_selection_store(path, store.info(), job));
  // Values of the selection stores, before any training.
  for (const auto& s : stores) s.store.check_finite(io::Split::Train);

  const internal::TrainingData data = internal::load_training_data(store);
  // Every training is planned before the first starts (the full data's, when not cached, by
  // reference_result), so that the fraction done holds from the start.
  internal::TrainingProgress progress(job.progress);
  const TrainSettings planned = internal::prepared_settings(data, job.training);
  for (const auto& sel : selections) progress.plan(static_cast<int64_t>(sel.indices.size()), job.repeats, planned);
  for (const auto& s : stores) progress.plan(s.store.info().n(), job.repeats, planned);
  EvaluateResult result = internal::reference_result(data, job, &progress);

  auto price = [&](const nlohmann::json& recorded, SelectionEvaluation& ev, const char* what) {
    if (!recorded.is_null()) {
      ev.selection_energy = energy::reprice(energy::report_from_json(recorded), job.meter.accounting);
    } else {
      result.notes.push_back(ev.path + ": the " + what + " records no energy (made by an older or another tool); " +
                             "its cost is counted as 0");
    }
    if (result.has_full) account_savings(result.full, ev);
  };

  for (size_t i = 0; i < selections.size(); ++i) {
    const io::SelectionFile& sel = selections[i];
    SelectionEvaluation ev;
    ev.path = job.selections[i];
    ev.method = sel.manifest.method;
    ev.weighted = job.use_weights && !sel.weights.empty();
    std::vector<internal::MeasuredTraining> repeats;
    for (int64_t r = 0; r < job.repeats; ++r) {
      if (job.status)
        job.status(ev.path + ": training " + std::to_string(r + 1) + "/" + std::to_string(job.repeats));
      const TrainSettings settings = progress.track(internal::repeat_settings(job.training, r),
                                                    static_cast<int64_t>(sel.indices.size()),
                                                    ev.path + ", repeat " + std::to_string(r + 1) + "/" +
                                                        std::to_string(job.repeats));
      repeats.push_back(internal::train_measured(data, sel.indices, ev.weighted ? sel.weights : std::vector<float>{},
                                                 settings, job.meter));
      progress.finished();
    }
    ev.training = internal::summarize(ev.method, static_cast<int64_t>(sel.indices.size()), repeats);
    price(sel.manifest.energy, ev, "selection file");
    result.selections.push_back(std::move(ev));
  }

  for (const auto& s : stores) {
    const io::StoreInfo& info = s.store.info();
    SelectionEvaluation ev;
    ev.path = s.path;
    ev.kind = "store";
    ev.method = std::filesystem::path(s.path).filename().string();
    ev.source = info.source;
    ev.weighted = job.use_weights && info.has_weights;
    const RowMatrixF features = s.store.features(io::Split::Train).read_all();
    const std::vector<int64_t> labels = s.store.labels(io::Split::Train);
    const std::vector<float> weights = ev.weighted ? s.store.weights() : std::vector<float>{};
    std::vector<internal::MeasuredTraining> repeats;
    for (int64_t r = 0; r < job.repeats; ++r) {
      if (job.status)
        job.status(ev.path + ": training " + std::to_string(r + 1) + "/" + std::to_string(job.repeats));
      const TrainSettings settings = progress.track(internal::repeat_settings(job.training, r), info.n(),
                                                    ev.path + ", repeat " + std::to_string(r + 1) + "/" +
                                                        std::to_string(job.repeats));
      repeats.push_back(internal::train_measured_on(data, features, labels, weights, settings, job.meter));
      progress.finished();
    }
    ev.training = internal::summarize(ev.method, info.n(), repeats);
    price(info.energy, ev, "store");
    result.selections.push_back(std::move(ev));
  }
  return result;
}

}  // namespace subset::workflows
