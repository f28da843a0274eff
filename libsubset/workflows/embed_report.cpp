// The torch-free half of `subset embed` (embed_job.h): its settings and reports, which the CLI
// needs before it loads libsubset_workflows_nn.
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/workflows/embed_job.h"

namespace subset::workflows {

const SettingsSchema<EmbedJob>& embed_schema() {
  static const SettingsSchema<EmbedJob> schema =
      SettingsSchema<EmbedJob>("embed")
          .field("model", &EmbedJob::model, "What embeds the rows: a supervised proxy's penultimate layer (mlp, "
                                            "convnet) or an unsupervised compression (pca, autoencoder)")
          .one_of({"mlp", "convnet", "pca", "autoencoder"})
          .field("dim", &EmbedJob::dim, "Embedding dimension K (mlp: its hidden width)")
          .at_least(1)
          .chosen_by("mlp 256; pca and autoencoder 64; convnet its feature layer (2048 for 28x28), not settable")
          .field("epochs", &EmbedJob::epochs, "Training epochs of the model (mlp, convnet, autoencoder)")
          .at_least(1)
          .only_for({"mlp", "convnet", "autoencoder"})
          .chosen_by("mlp and convnet 2; autoencoder its own default")
          .done();
  return schema;
}

nlohmann::json resolved_embed_settings(const EmbedJob& job) {
  embed_schema().check(job);
  SUBSET_CHECK_PARAM(job.model != "pca" || !job.epochs, "epochs", "does not apply to model pca (nothing is trained)");
  SUBSET_CHECK_PARAM(job.model != "convnet" || !job.dim, "dim",
                     "the convnet's embedding is its feature layer, whose size the image shape fixes");
  nlohmann::json s = {{"model", job.model}, {"seed", std::to_string(job.seed)}};
  if (job.model == "mlp") s["dim"] = job.dim.value_or(256);
  if (job.model == "pca" || job.model == "autoencoder") s["dim"] = job.dim.value_or(64);
  if (job.model == "mlp" || job.model == "convnet") s["epochs"] = job.epochs.value_or(2);
  if (job.model == "autoencoder" && job.epochs) s["epochs"] = *job.epochs;
  return s;
}

nlohmann::json to_json(const EmbedOutcome& o) {
  return {{"model", o.model},       {"settings", o.settings}, {"n", o.n},         {"test_n", o.test_n},
          {"input_dim", o.input_dim}, {"dim", o.dim},         {"stats", o.stats}, {"seconds", o.seconds},
          {"output", o.output.path}, {"energy", o.energy}};
}

std::string format_embedding(const EmbedOutcome& o) {
  std::ostringstream os;
  os << "embedded " << o.n << " rows" << (o.test_n ? " and " + std::to_string(o.test_n) + " test rows" : "")
     << " with " << o.model << ": " << o.input_dim << " -> " << o.dim << " features, in " << o.seconds << " s -> "
     << o.output.path << "\n";
  for (const auto& [key, value] : o.stats.items())
    if (value.is_number()) os << "  " << key << " " << value << "\n";
  if (!o.energy.is_null() && o.energy.contains("kwh"))
    os << "  energy " << o.energy["kwh"] << " kWh (recorded; selections made on it count it)\n";
  return os.str();
}

}  // namespace subset::workflows
