#include "libsubset/workflows/evaluate.h"

#include "libsubset/core/error.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/internal/training.h"

namespace subset::workflows {
namespace {

void check_settings(const EvaluateJob& job) {
  SUBSET_CHECK(job.repeats >= 1, "--repeats", "repeats must be at least 1, got " << job.repeats);
  SUBSET_CHECK(job.training.epochs >= 1, "--epochs", "epochs must be at least 1, got " << job.training.epochs);
}

}  // namespace

EvaluateResult run_evaluate(const EvaluateJob& job) {
  check_settings(job);
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  internal::check_trainable(store);
  std::vector<io::SelectionFile> selections;
  for (const auto& path : job.selections) {
    io::SelectionFile sel = io::read_selection(path);
    io::check_selection_matches(sel.manifest, store, path);
    SUBSET_CHECK(!sel.indices.empty(), path, "selection is empty");
    selections.push_back(std::move(sel));
  }

  const internal::TrainingData data = internal::load_training_data(store);
  EvaluateResult result = internal::reference_result(data, job);

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
      repeats.push_back(internal::train_measured(data, sel.indices, ev.weighted ? sel.weights : std::vector<float>{},
                                                 internal::repeat_settings(job.training, r), job.meter));
    }
    ev.training = internal::summarize(ev.method, static_cast<int64_t>(sel.indices.size()), repeats);
    if (!sel.manifest.energy.is_null()) {
      ev.selection_energy = energy::reprice(energy::report_from_json(sel.manifest.energy), job.meter.accounting);
    } else {
      result.notes.push_back(ev.path + ": the selection file records no energy (made by an older or another tool); "
                             "its selection cost is counted as 0");
    }
    account_savings(result.full, ev);
    result.selections.push_back(std::move(ev));
  }
  return result;
}

}  // namespace subset::workflows
