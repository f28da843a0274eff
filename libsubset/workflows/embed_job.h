#pragma once
// `subset embed` as one library call: a "same rows" store (docs/format.md) whose /features are an
// embedding of another store's rows, in the same order: a supervised proxy's penultimate layer
// (mlp, convnet: a short training on the labels, nn/embed.h) or an unsupervised compression
// (pca, autoencoder: the compress transforms). It records the source's path, feature checksum and
// row count ("same_rows"), the model and its settings ("embedding") and the energy of the run.
// This header includes no libtorch; run_embed lives in libsubset_workflows_nn.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "libsubset/core/settings_schema.h"
#include "libsubset/energy/meter.h"
#include "libsubset/io/store.h"

namespace subset::workflows {

struct EmbedJob {
  std::string store;
  std::string model = "mlp";     // mlp | convnet | pca | autoencoder
  std::optional<int64_t> dim;    // K; see embed_schema() for each model's default
  std::optional<int64_t> epochs;  // mlp, convnet, autoencoder
  uint64_t seed = 0;
  std::string output;
  std::optional<std::string> model_out;  // the trained model or fitted transform, as a model file
  bool force = false;
  std::optional<energy::MeterOptions> meter;  // when set, the run's report is recorded as "energy"
  std::function<void(const std::string&)> status;  // progress lines; may be empty
};

struct EmbedOutcome {
  std::string model;
  nlohmann::json settings;  // the model's settings, resolved, by parameter name
  int64_t n = 0, test_n = 0, input_dim = 0, dim = 0;
  nlohmann::json stats;     // what the training or fit measured (loss, test accuracy, ...)
  double seconds = 0;       // the whole run
  io::StoreInfo output;
  nlohmann::json energy = nullptr;
};

// The job's tunables, by option name: model, dim, epochs.
const SettingsSchema<EmbedJob>& embed_schema();

// The model's settings as they will run: dim and epochs resolved by model (mlp: dim is the hidden
// width, 256, and epochs 2; convnet: epochs 2, its feature layer fixed (a given dim is refused);
// pca and autoencoder: dim 64, the autoencoder's epochs its own default). Throws ParamError.
nlohmann::json resolved_embed_settings(const EmbedJob& job);

// Validates everything before any work (model, settings, labels for the supervised models, image
// shape for convnet, output paths distinct and not the input), then embeds both splits and writes.
// Throws Error on the first problem; nothing is written then.
EmbedOutcome run_embed(const EmbedJob& job);

nlohmann::json to_json(const EmbedOutcome& outcome);
std::string format_embedding(const EmbedOutcome& outcome);

}  // namespace subset::workflows
