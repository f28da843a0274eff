#include "libsubset/workflows/embed_job.h"

#include <chrono>
#include <memory>

#include "libsubset/core/error.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/params.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/model_file.h"
#include "libsubset/io/store_writer.h"
#include "libsubset/nn/condense.h"
#include "libsubset/nn/embed.h"
#include "libsubset/workflows/compress_job.h"

namespace subset::workflows {
namespace {

using Clock = std::chrono::steady_clock;

RowMatrixF read_finite(const io::FeatureArray& array, const std::string& where) {
  RowMatrixF m = array.read_all();
  const int64_t bad = find_non_finite(m.data(), static_cast<size_t>(m.size()));
  SUBSET_CHECK(bad < 0, where, "NaN or Inf in features at row " << bad / m.cols());
  return m;
}

// The proxy's settings: the trainer's defaults but for the embedding's own epochs and width, and
// for convnet the store's image shape and per-channel statistics (as evaluate standardises).
TrainSettings proxy_settings(const EmbedJob& job, const nlohmann::json& resolved, const io::StoreInfo& info,
                             const RowMatrixF& features) {
  TrainSettings s;
  s.model = job.model;
  s.schedule = "epochs";
  s.seed = job.seed;
  s.epochs = resolved["epochs"].get<int64_t>();
  if (resolved.contains("dim")) s.hidden = resolved["dim"].get<int64_t>();
  if (job.model == "convnet") {
    SUBSET_CHECK_PARAM(!info.image_shape.empty(), "model",
                       "the convnet needs images: " << job.store << " records no image_shape [C, H, W]");
    s.image_shape = info.image_shape;
    const nn::ChannelStatistics stats =
        nn::channel_statistics(features.data(), features.rows(), features.cols(), info.image_shape.front());
    s.channel_mean = stats.mean;
    s.channel_stddev = stats.stddev;
  }
  return s;
}

// mlp, convnet: trains on the labels and writes the penultimate activations of both splits.
void embed_supervised(const EmbedJob& job, const io::FeatureStore& store, const nlohmann::json& resolved,
                      const std::map<std::string, std::string>& attributes,
                      const std::function<std::string()>& energy_report, EmbedOutcome& out) {
  const io::StoreInfo& info = store.info();
  SUBSET_CHECK(info.has_labels, job.store, "model " << job.model << " trains on the labels, and the store has none");
  const RowMatrixF features = read_finite(store.features(), job.store + ":/features");
  const std::vector<int64_t> labels = store.labels();
  RowMatrixF test_features;
  std::vector<int64_t> test_labels;
  if (info.has_test) test_features = read_finite(store.features(io::Split::Test), job.store + ":/test/features");
  if (info.has_test_labels) test_labels = store.labels(io::Split::Test);
  std::vector<float> weights;
  if (info.has_weights) weights = store.weights();
  int64_t classes = info.num_classes();
  for (int64_t y : test_labels) classes = std::max(classes, y + 1);

  TrainSettings settings = proxy_settings(job, resolved, info, features);
  // Ctrl-C is honoured between epochs (the process's interrupt handler only sets a flag).
  settings.on_epoch = [&job](int64_t epoch, int64_t epochs, double loss) {
    check_interrupted();
    if (job.status)
      job.status("epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) + " loss " + std::to_string(loss));
  };
  const nn::LabelledView train{features.data(), labels.data(), weights.empty() ? nullptr : weights.data(), info.n(),
                               info.dim()};
  const nn::LabelledView test{test_features.data(), test_labels.empty() ? nullptr : test_labels.data(), nullptr,
                              info.test_n(), info.dim()};
  // The embeddings are held whole (train and test rows x K floats): refused before any training
  // when the machine cannot hold them.
  const double bytes = static_cast<double>(info.n() + info.test_n()) * static_cast<double>(settings.hidden) * 4.0;
  const double memory = physical_memory_bytes();
  SUBSET_CHECK_PARAM(job.model != "mlp" || memory == 0 || bytes <= memory, "dim",
                     "embeddings of width " << settings.hidden << " for " << info.n() + info.test_n()
                                            << " rows need about " << bytes / 1e9 << " GB, more than this machine's "
                                            << memory / 1e9 << " GB of memory");
  nn::EmbedResult result;
  try {
    result = nn::train_and_embed(train, test, classes, settings);
  } catch (const ParamError& e) {
    // The proxy's hidden width is this job's dim.
    if (e.parameter() != "hidden") throw;
    throw ParamError("dim", e.message());
  }

  io::WriteOptions options;
  options.energy_report = energy_report;
  io::StoreWriter writer(job.output, job.force, options);
  writer.begin_features(io::Split::Train, info.n(), result.dim);
  writer.write_rows(io::Split::Train, info.n(), result.train.data());
  writer.write_labels(io::Split::Train, labels);
  if (info.has_weights) writer.write_weights(weights);
  if (info.has_test) {
    writer.begin_features(io::Split::Test, info.test_n(), result.dim);
    writer.write_rows(io::Split::Test, info.test_n(), result.test.data());
    if (info.has_test_labels) writer.write_labels(io::Split::Test, test_labels);
  }
  writer.set_class_names(info.class_names);
  writer.set_source(job.model + " embedding (" + std::to_string(info.dim()) + " -> " + std::to_string(result.dim) +
                    ") of " + job.store);
  writer.set_created_by(std::string("libsubset ") + kVersion + " (subset embed)");
  for (const auto& [name, value] : attributes) writer.set_root_attribute(name, value);
  out.dim = result.dim;
  out.stats = {{"final_loss", result.training.final_loss}, {"steps", result.training.steps}};
  if (info.has_test_labels) out.stats["test_accuracy"] = result.training.test_accuracy;
  if (job.model_out) {
    io::ModelFile model;
    model.state = result.model;
    model.state.params = resolved;
    model.seed = job.seed;
    model.source = job.store;
    model.source_checksum = store.features_checksum();
    model.created_by = std::string("libsubset ") + kVersion + " (subset embed)";
    io::write_model_file(*job.model_out, job.force, model);
  }
  writer.commit();
}

// pca, autoencoder: the compress transforms, fitted on the store.
void embed_unsupervised(const EmbedJob& job, const nlohmann::json& resolved,
                        const std::map<std::string, std::string>& attributes,
                        const std::function<std::string()>& energy_report, EmbedOutcome& out) {
  CompressJob c;
  c.store = job.store;
  c.method = job.model;
  if (resolved.contains("epochs")) c.params["epochs"] = std::to_string(resolved["epochs"].get<int64_t>());
  c.target.dim = resolved["dim"].get<int64_t>();
  c.seed = job.seed;
  c.output = job.output;
  c.model_out = job.model_out;
  c.force = job.force;
  c.status = job.status;
  c.energy_report = energy_report;
  c.root_attributes = attributes;
  c.command = "subset embed";
  const CompressOutcome compressed = run_compress(c);
  out.dim = compressed.output_dim;
  out.stats = compressed.stats;
}

}  // namespace

EmbedOutcome run_embed(const EmbedJob& job) {
  const auto t0 = Clock::now();
  const nlohmann::json resolved = resolved_embed_settings(job);
  std::optional<energy::EnergyMeter> meter;
  if (job.meter) {
    meter.emplace(*job.meter);
    meter->start();
  }
  const io::FeatureStore store = io::FeatureStore::open(job.store);
  const io::StoreInfo& info = store.info();
  SUBSET_CHECK_PARAM(!io::same_file(job.output, job.store), "output",
                     "-o " << job.output << " is the input store: an embedding never replaces its source");
  io::check_output_path(job.output, job.force);
  if (job.model_out) {
    io::check_distinct_outputs({{"-o", job.output}, {"--model-out", *job.model_out}});
    SUBSET_CHECK_PARAM(!io::same_file(*job.model_out, job.store), "model-out",
                       *job.model_out << " is the input store");
    io::check_output_path(*job.model_out, job.force);
  }

  EmbedOutcome out;
  out.model = job.model;
  out.settings = resolved;
  out.n = info.n();
  out.test_n = info.test_n();
  out.input_dim = info.dim();
  const io::SameRows rows{job.store, store.features_checksum(), info.n()};
  const std::map<std::string, std::string> attributes = {
      {"same_rows", rows.to_json().dump()},
      {"embedding", nlohmann::json({{"model", job.model}, {"settings", resolved}, {"input_dim", info.dim()}}).dump()}};
  // The report is taken once everything but the final flush is done, and kept for the outcome.
  auto report = std::make_shared<std::string>();
  std::function<std::string()> energy_report;
  if (meter)
    energy_report = [&meter, report] {
      *report = energy::to_json(meter->stop()).dump();
      return *report;
    };
  if (job.model == "mlp" || job.model == "convnet") embed_supervised(job, store, resolved, attributes, energy_report, out);
  else embed_unsupervised(job, resolved, attributes, energy_report, out);
  if (!report->empty()) out.energy = nlohmann::json::parse(*report);
  out.output = io::FeatureStore::open(job.output).info();
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

}  // namespace subset::workflows
