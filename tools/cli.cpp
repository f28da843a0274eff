#include "tools/cli.h"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "libsubset/workflows/embed_cache.h"
#include "tools/nn_plugin.h"

#include "libsubset/core/error.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/progress.h"
#include "libsubset/energy/accounting.h"
#include "libsubset/energy/report.h"
#include "libsubset/core/train_settings.h"

namespace subset::cli {

void add_energy_options(CLI::App& app, GlobalOptions& g) {
  const std::string group = "Energy accounting";
  g.pue = app.add_option("--pue", g.pue_value, "Power usage effectiveness of the facility, >= 1 (default: see docs/energy.md)")
              ->group(group);
  g.region = app.add_option("--region", g.region_value,
                            "Carbon intensity of this country's electricity (ISO code, e.g. FR; WORLD by default)")
                 ->group(group);
  g.carbon_intensity =
      app.add_option("--carbon-intensity", g.carbon_intensity_value, "Carbon intensity in gCO2e/kWh, >= 0 (instead of --region)")
          ->group(group);
  g.cpu_watts = app.add_option("--cpu-watts", g.cpu_watts_value,
                               "Watts per busy logical CPU for the estimate when RAPL cannot be read")
                    ->group(group);
}

energy::MeterOptions resolve_meter_options(const GlobalOptions& g) {
  energy::AccountingChoice choice;
  if (g.region && *g.region) choice.region = g.region_value;
  if (g.carbon_intensity && *g.carbon_intensity) choice.carbon_intensity = g.carbon_intensity_value;
  if (g.pue && *g.pue) choice.pue = g.pue_value;
  std::optional<double> cpu_watts;
  if (g.cpu_watts && *g.cpu_watts) cpu_watts = g.cpu_watts_value;
  return energy::MeterOptions::resolve(choice, cpu_watts);
}

std::function<std::string()> start_energy_recording(const GlobalOptions& global) {
  auto meter = std::make_shared<energy::EnergyMeter>(global.meter);
  meter->start();
  return [meter] { return energy::to_json(meter->stop()).dump(); };
}

void name_free_text_values(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    const std::string type = option->get_type_name();  // "TEXT", or "TEXT:{a,b}" with a validator
    if (type != "TEXT" && type.rfind("TEXT:", 0) != 0) continue;
    std::string name = option->get_lnames().empty() ? option->get_name(true, false) : option->get_lnames().front();
    for (char& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    option->type_name(name);
  }
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) name_free_text_values(*sub);
}

CLI::Option* add_json_flag(CLI::App& app, bool& json) {
  return app.add_flag("--json", json, "Print one JSON object on stdout instead of a table");
}

CLI::Option* add_memory_limit_option(CLI::App& app, std::string& size, const std::string& what) {
  return app
      .add_option("--memory-limit", size,
                  "Memory the whole run may use (512M, 4G; default: what the machine has available); " + what)
      ->type_name("SIZE");
}

std::optional<double> memory_limit_of(const std::string& size) {
  if (size.empty()) return std::nullopt;
  return parse_memory_size(size, "memory-limit");
}

CLI::Validator non_negative_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        long long value = -1;
        try {
          value = std::stoll(text, &used);
        } catch (...) {
          used = 0;
        }
        if (used == 0 || used != text.size() || value < 0)
          return "expected a non-negative integer, got '" + text + "'";
        return {};
      },
      "NONNEGATIVE");
}

CLI::Validator seed_value() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
        errno = 0;
        if (digits) std::strtoull(text.c_str(), nullptr, 10);
        if (!digits || errno == ERANGE) return "expected a whole number from 0 to 18446744073709551615, got '" + text + "'";
        return {};
      },
      "");
}

TrainingOptions add_training_options(CLI::App& app, TrainSettings& settings, const ParamSchema& job_schema) {
  const std::string group = "Proxy model";
  TrainingOptions out;
  out.model = std::make_shared<ParamOptions>(app, std::vector<const ParamSchema*>{&train_schema().schema()}, group);
  out.job = std::make_shared<ParamOptions>(app, std::vector<const ParamSchema*>{&job_schema}, group);
  app.add_option("--seed", settings.seed, "Seed of the first repeat (repeat r uses SEED + r)")
      ->check(seed_value())->capture_default_str()->group(group);
  return out;
}

void TrainingOptions::apply(TrainSettings& settings) const {
  const SettingsSchema<TrainSettings>& schema = train_schema();
  schema.set_all(settings, model->given());
  model->given(schema.schema(), settings.model, "model");  // each applies to the model
}

std::function<void(const std::string&)> status_lines(const GlobalOptions& global) {
  // The one progress rule (libsubset/core/progress.h): a live line on a terminal, a plain line every
  // few seconds at most in a log, nothing with --quiet. The printer lives as long as the function.
  return progress_sinks("", !global.quiet).status;
}

EmbeddingOptions add_embedding_options(CLI::App& app, const std::string& embedding_help) {
  EmbeddingOptions o;
  app.add_option("--embedding", *o.embedding, embedding_help);
  app.add_option("--embed", *o.embed,
                 "Embed STORE first, as `subset embed` would (MODEL[:NAME=VALUE...], e.g. mlp:epochs=2), caching "
                 "the embedding next to STORE for later runs; then as --embedding");
  return o;
}

std::optional<std::string> EmbeddingOptions::resolve(const CLI::App& app, const std::string& store,
                                                     const GlobalOptions& global, bool announce) const {
  SUBSET_CHECK(!(app.count("--embed") && app.count("--embedding")), "--embed",
               "give --embed or --embedding, not both");
  if (app.count("--embedding")) return *embedding;
  if (!app.count("--embed")) return std::nullopt;
  workflows::EmbedJob job = workflows::parse_embed_spec(*embed);  // bad settings fail before libtorch loads
  job.store = store;
  job.meter = global.meter;
  job.status = status_lines(global);
  const workflows::CachedEmbedding cache =
      workflows::cached_embedding(job, [](const workflows::EmbedJob& j) { return nn_workflows().embed(j); });
  if (announce) std::cout << "embedding " << cache.path << (cache.cached ? " (cached)" : " (computed)") << "\n";
  return cache.path;
}

}  // namespace subset::cli
