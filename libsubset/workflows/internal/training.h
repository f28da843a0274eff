#pragma once
// What evaluate and bench share: a store loaded for training, one measured training, and the
// full-data reference with its sidecar cache.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/core/progress.h"
#include "libsubset/io/store.h"
#include "libsubset/nn/trainer.h"
#include "libsubset/workflows/evaluate.h"

namespace subset::workflows::internal {

struct TrainingData {
  std::string path;
  std::string checksum;              // features_checksum() of /features
  std::string weights_checksum;      // "crc32:..." of /weights; empty when the store has none
  RowMatrixF features;
  std::vector<int64_t> labels;
  RowMatrixF test_features;
  std::vector<int64_t> test_labels;
  int64_t num_classes = 0;
  std::vector<int64_t> image_shape;   // [C, H, W], empty when the store has none
  // Per-channel mean and standard deviation of the whole training split (one channel without an
  // image shape): the ConvNet's standardisation, the same for every training set evaluated.
  std::vector<float> channel_mean;
  std::vector<float> channel_stddev;
};

// Per-epoch progress over a run's trainings (evaluate, bench), weighted by cost: a training's share
// is its rows x epochs (under the steps schedule steps x batch, whatever the rows), the epochs of
// early stopping being a cap (the figures then say "at least"/"at most"). Plan every training
// before the first starts; then track() each (with the rows it was planned with) and finished()
// after it.
class TrainingProgress {
 public:
  explicit TrainingProgress(ProgressFn report) : report_(std::move(report)) {}
  bool active() const { return static_cast<bool>(report_); }
  // `count` trainings on `rows` rows each under `settings` (resolved by prepared_settings).
  void plan(int64_t rows, int64_t count, const TrainSettings& settings);
  // `settings` with an on_epoch that reports "WHAT: epoch E/EPOCHS" within the next planned share
  // (chained to the settings' own on_epoch).
  TrainSettings track(const TrainSettings& settings, int64_t rows, const std::string& what);
  // The tracked training ended (early stopping: before its cap): progress moves to its share's end.
  void finished();

 private:
  static int64_t share_of(int64_t rows, const TrainSettings& settings);
  ProgressFn report_;
  int64_t base_ = 0, total_ = 0, share_ = 0;  // share_: of the training tracked now
  bool capped_ = false;
  std::string what_;
};

// Throws unless the store has labels and a labelled /test split.
void check_trainable(const io::FeatureStore& store);
// Reads both splits of a store that passed check_trainable; throws on NaN/Inf rows.
TrainingData load_training_data(const io::FeatureStore& store);

struct MeasuredTraining {
  double accuracy = 0;
  double seconds = 0;
  int64_t epochs = 0;
  int64_t best_epoch = 0;
  std::optional<double> validation_accuracy;  // early-stop only
  energy::EnergyReport energy;
};

// The settings as trained on `data`: unset epochs and learning rate are the model's defaults
// (resolve_defaults), and for convnet the store's image shape and channel statistics unless the
// settings already carry them. Every training and the cache key go through it (and reference_result
// reports the same resolved epochs and learning rate).
TrainSettings prepared_settings(const TrainingData& data, const TrainSettings& settings);

// Trains on `rows` of the data (all rows when empty), weighted when `weights` is non-empty (one
// per row of `rows`), under the energy meter.
MeasuredTraining train_measured(const TrainingData& data, const std::vector<int64_t>& rows,
                                const std::vector<float>& weights, const TrainSettings& settings,
                                const energy::MeterOptions& meter);
// Trains on another training set (a selection store's rows, same dim) and tests on data's /test.
MeasuredTraining train_measured_on(const TrainingData& data, const RowMatrixF& features,
                                   const std::vector<int64_t>& labels, const std::vector<float>& weights,
                                   const TrainSettings& settings, const energy::MeterOptions& meter);

// Per-repeat trainings as TrainingRuns: mean and sample std of accuracy, mean energy.
TrainingRuns summarize(const std::string& label, int64_t n, const std::vector<MeasuredTraining>& repeats);
// The mean of several scopes' reports (one "typical" scope); empty input gives an empty report.
energy::EnergyReport mean_report(const std::vector<energy::EnergyReport>& reports);

// Refuses, before any training, a cache path (job.cache_path, else STORE.evaluate-cache.json)
// that is one of `inputs` (compared by device and inode), a directory, or any existing file that
// is not an evaluate cache; and a --cache whose directory does not exist. Nothing to check when
// job.train_full is false.
void check_cache(const EvaluateJob& job, const std::vector<std::string>& inputs);

// The R full-data trainings, from the sidecar cache when it holds the same store and settings
// (re-priced with today's accounting), else measured and recorded there. Notes what happened.
// The entry's key covers the features, labels, weights and test split (their checksums) and the
// settings. Throws when the path holds something that is not a cache (see check_cache).
// `progress`, when not null, gets the trainings planned (when they are not cached) and tracked.
TrainingRuns full_reference(const TrainingData& data, const EvaluateJob& job, std::vector<std::string>& notes,
                            TrainingProgress* progress = nullptr);

// An EvaluateResult holding the job's settings and the full-data reference (none, with a note,
// when job.train_full is false), no selections yet.
EvaluateResult reference_result(const TrainingData& data, const EvaluateJob& job, TrainingProgress* progress = nullptr);

// Training settings with the seed of repeat r.
TrainSettings repeat_settings(const TrainSettings& base, int64_t repeat);

}  // namespace subset::workflows::internal
