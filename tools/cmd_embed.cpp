// `subset embed STORE --model mlp|convnet|pca|autoencoder -o EMB.h5`: a same-rows store whose
// features embed STORE's rows, for selecting in an embedding space (select --embedding).
#include <iostream>

#include "libsubset/workflows/embed_job.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"

namespace subset::cli {

Command add_embed_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::EmbedJob job;
    std::string model_out;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "embed", "Embed a store's rows (same rows, same order) with a supervised proxy or an unsupervised model");
  app->footer(
      "mlp and convnet train on /labels for a few epochs and keep the layer before the classifier;\n"
      "pca and autoencoder fit the compress transforms. The output keeps /labels, /weights, the class names\n"
      "and the /test split (embedded with the same model), and records STORE's path, feature checksum and\n"
      "row count: a selection made on it is accepted by extract, evaluate and bench on STORE\n"
      "(docs/format.md, \"Same-rows stores\"), and `subset select STORE --embedding EMB.h5` selects on it\n"
      "directly. Its energy is recorded and counted as part of the cost of selections made on it.");
  app->add_option("store", o->job.store, "HDF5 feature store to embed")->required();
  auto params = std::make_shared<ParamOptions>(*app, std::vector<const ParamSchema*>{&workflows::embed_schema().schema()});
  app->add_option("--seed", o->job.seed, "Seed of the initial weights, batch order and fit")
      ->check(seed_value())->capture_default_str();
  app->add_option("-o,--output", o->job.output, "Embedding store to write (.h5)")->required();
  app->add_option("--model-out", o->model_out, "Also write the trained model or fitted transform as a model file");
  app->add_flag("--force", o->job.force, "Overwrite existing outputs");
  add_json_flag(*app, o->json);
  return {app, [o, params, &global]() {
            workflows::EmbedJob job = o->job;
            workflows::embed_schema().set_all(job, params->given());
            params->given(workflows::embed_schema().schema(), job.model, "model");  // each applies to the model
            workflows::resolved_embed_settings(job);  // bad settings fail before libtorch loads
            if (!o->model_out.empty()) job.model_out = o->model_out;
            job.meter = global.meter;
            job.status = status_lines(global);
            const workflows::EmbedOutcome out = nn_workflows().embed(job);
            if (o->json) std::cout << workflows::to_json(out).dump(2) << "\n";
            else std::cout << workflows::format_embedding(out);
            return 0;
          }};
}

}  // namespace subset::cli
