// `subset select STORE --method NAME (--budget K | --fraction F) -o SEL.h5`
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "libsubset/core/error.h"
#include "libsubset/core/progress.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/select_job.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"
#include "tools/param_options.h"

namespace subset::cli {
namespace {

std::string method_list() {
  std::string out;
  for (const auto& m : select::methods()) out += (out.empty() ? "" : "|") + m.name;
  return out;
}

}  // namespace

Command add_select_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::SelectJob job;
    int64_t budget = 0;
    double fraction = 0;
    std::string indices_out;
    std::string centroids_out;
    std::string memory_limit;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("select", "Select a subset (coreset) of a store's rows");
  std::string footer = "Methods:\n";
  for (const auto& m : select::methods()) footer += "  " + m.name + std::string(18 - std::min<size_t>(17, m.name.size()), ' ') + m.summary + "\n";
  footer += "Each method's own options are listed above with the method name in brackets.";
  app->footer(footer);
  app->add_option("store", o->job.store, "HDF5 feature store")->required();
  app->add_option("-m,--method", o->job.method, method_list())->required();
  app->add_option("-k,--budget", o->budget, "Number of rows to select");
  app->add_option("-f,--fraction", o->fraction, "Fraction of the rows to select, in (0, 1]");
  app->add_flag("--per-class", o->job.per_class, "Run the method within each class, budget split evenly (balanced)");
  app->add_option("--seed", o->job.seed, "Seed of every random choice")->check(seed_value())->capture_default_str();
  app->add_option("--features", o->job.features_dataset, "Dataset to select in (e.g. embeddings of the same rows)")
      ->capture_default_str();
  const EmbeddingOptions embedding = add_embedding_options(
      *app, "Select on this same-rows store of STORE (subset embed); the selection names STORE and counts the "
            "embedding's energy");
  app->add_option("-o,--output", o->job.output, "Selection file to write (.h5)")->required();
  app->add_option("--indices-out", o->indices_out, "Also write the indices as FILE.txt or FILE.npy");
  app->add_option("--centroids-out", o->centroids_out,
                  "kmeans: also write the centroids (synthetic points) as a store, weighted by cluster size");
  app->add_flag("--force", o->job.force, "Overwrite existing outputs");
  add_memory_limit_option(*app, o->memory_limit,
                          "features that do not fit stay on disk and are read in blocks (kcenter, herding, kmeans; "
                          "--per-class: one class at a time)");
  add_json_flag(*app, o->json);

  // Every method parameter becomes an option, generated from the method's one declaration.
  std::vector<const ParamSchema*> schemas;
  for (const auto& m : select::methods()) schemas.push_back(&m.params);
  auto params = std::make_shared<ParamOptions>(*app, schemas);

  return {app, [o, app, params, embedding, &global]() {
            workflows::SelectJob job = o->job;
            if (app->count("--budget")) job.budget = o->budget;
            if (app->count("--fraction")) job.fraction = o->fraction;
            if (!o->indices_out.empty()) job.indices_out = o->indices_out;
            if (!o->centroids_out.empty()) job.centroids_out = o->centroids_out;
            job.memory_limit = memory_limit_of(o->memory_limit);
            const select::MethodSpec& spec = select::method(job.method);
            job.params = params->given(spec.params, spec.name);
            job.embedding = embedding.resolve(*app, job.store, global, !o->json);
            // The importance methods score with a proxy model: loading the model-training library
            // installs the provider (libsubset/select/scores.h). Bad parameters fail before that.
            if (spec.needs_scores) {
              spec.params.resolve(job.params);
              nn_workflows();
            }
            ProgressPrinter progress(spec.name, !global.quiet);
            job.progress = [&progress](int64_t done, int64_t total) { progress.update(done, total); };
            job.meter = global.meter;
            const workflows::SelectOutcome out = workflows::run_select(job);
            const io::SelectionFile& sel = out.selection;
            const io::SelectionManifest& m = sel.manifest;
            if (o->json) {
              nlohmann::json j;
              j["method"] = m.method;
              j["params"] = m.params;
              j["seed"] = m.seed;
              j["per_class"] = m.per_class;
              j["n_selected"] = sel.indices.size();
              j["n_source"] = m.source_n;
              j["source"] = m.source;
              j["output"] = job.output;
              j["weighted"] = !sel.weights.empty();
              j["seconds"] = out.seconds;
              j["stats"] = m.stats;
              j["energy"] = m.energy;
              j["embedding"] = m.embedding;
              std::cout << j.dump(2) << "\n";
              return 0;
            }
            char seconds[32];
            std::snprintf(seconds, sizeof seconds, "%.3g", out.seconds);
            std::cout << "selected " << sel.indices.size() << " of " << m.source_n << " rows with " << m.method
                      << (m.per_class ? " (per class)" : "") << ", seed " << m.seed << ", in " << seconds << " s -> "
                      << job.output << "\n";
            // By default the method's results; -v adds its internal counters (all stay in --json).
            const std::vector<std::string>& headline = workflows::headline_stats();
            auto is_headline = [&](const std::string& key) {
              return std::find(headline.begin(), headline.end(), key) != headline.end();
            };
            for (const auto& [key, value] : m.stats.items())
              if (key != "seconds" && value.is_primitive() && is_headline(key))
                std::cout << "  " << key << " " << value << "\n";
            if (out.energy) {
              std::snprintf(seconds, sizeof seconds, "%.3g", out.energy->kwh());
              std::cout << "  energy " << seconds << " kWh"
                        << (m.embedding.is_null() ? "" : " plus the embedding's, recorded with it")
                        << " (recorded in the selection file; `subset evaluate` counts it)\n";
            }
            if (global.verbose) {
              std::cout << "  parameters " << m.params.dump() << "\n";
              for (const auto& [key, value] : m.stats.items()) {
                if (key == "seconds" || is_headline(key)) continue;
                const std::string text = value.dump();
                std::cout << "  " << key << " "
                          << (text.size() <= 160 ? text : std::to_string(value.size()) + " entries (see --json)") << "\n";
              }
              if (!out.memory_plan.empty()) std::cout << "  features " << out.memory_plan << "\n";
              std::cout << "  phases:";
              for (size_t i = 0; i < out.phases.size(); ++i) {
                std::snprintf(seconds, sizeof seconds, "%.3g", out.phases[i].second);
                std::cout << (i ? ", " : " ") << out.phases[i].first << " " << seconds << " s";
              }
              std::cout << "\n  wrote " << job.output << (job.indices_out ? ", " + *job.indices_out : "")
                        << (job.centroids_out ? ", " + *job.centroids_out : "") << "\n";
            }
            return 0;
          }};
}

}  // namespace subset::cli
