#pragma once
// What evaluate and bench share: a store loaded for training, one measured training, and the
// full-data reference with its sidecar cache.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"
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
TrainingRuns full_reference(const TrainingData& data, const EvaluateJob& job, std::vector<std::string>& notes);

// An EvaluateResult holding the job's settings and the full-data reference (none, with a note,
// when job.train_full is false), no selections yet.
EvaluateResult reference_result(const TrainingData& data, const EvaluateJob& job);

// Training settings with the seed of repeat r.
TrainSettings repeat_settings(const TrainSettings& base, int64_t repeat);

}  // namespace subset::workflows::internal
