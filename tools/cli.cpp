#include "tools/cli.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/energy/accounting.h"
#include "libsubset/energy/report.h"

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
  energy::MeterOptions options = energy::MeterOptions::from_environment(energy::resolve_accounting(choice));
  if (g.cpu_watts && *g.cpu_watts) {
    SUBSET_CHECK(std::isfinite(g.cpu_watts_value) && g.cpu_watts_value > 0, "--cpu-watts",
                 "watts per CPU must be a positive number, got " << g.cpu_watts_value);
    options.cpu_watts = g.cpu_watts_value;
  }
  return options;
}

std::function<std::string()> start_energy_recording(const GlobalOptions& global) {
  auto meter = std::make_shared<energy::EnergyMeter>(global.meter);
  meter->start();
  return [meter] { return energy::to_json(meter->stop()).dump(); };
}

CLI::Option* add_json_flag(CLI::App& app, bool& json) {
  return app.add_flag("--json", json, "Print one JSON object on stdout instead of a table");
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

CLI::Validator positive_integer() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        size_t used = 0;
        long long value = 0;
        try {
          value = std::stoll(text, &used);
        } catch (...) {
          used = 0;
        }
        if (used == 0 || used != text.size() || value < 1) return "must be an integer >= 1, got '" + text + "'";
        return {};
      },
      "INT >= 1");
}

CLI::Validator positive_number() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        errno = 0;
        char* end = nullptr;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value) || value <= 0)
          return "must be a number > 0, got '" + text + "'";
        return {};
      },
      "NUMBER > 0");
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

namespace {

// A default as CLI11 prints one: shortest form ("0.001", not "1e-03").
std::string number_text(double value) {
  std::ostringstream os;
  os << value;
  return os.str();
}

}  // namespace

void add_training_options(CLI::App& app, nn::TrainSettings& t, int64_t& repeats) {
  const std::string group = "Proxy model";
  app.add_option("--model", t.model,
                 "Proxy model: linear, mlp, or convnet (the reference ConvNet of dataset condensation; needs a store "
                 "with image_shape)")
      ->check(CLI::IsMember({"linear", "mlp", "convnet"}))->capture_default_str()->group(group);
  app.add_option("--hidden", t.hidden, "MLP hidden width")->check(positive_integer())->capture_default_str()->group(group);
  // --epochs and --lr stay unset unless given, so that the library applies the model's own defaults
  // (nn::model_defaults); default_str only shows the mlp's in the help, it assigns nothing.
  constexpr nn::ModelDefaults mlp = nn::model_defaults("mlp"), convnet = nn::model_defaults("convnet");
  app.add_option("--epochs", t.epochs, "Training epochs (convnet: " + std::to_string(convnet.epochs) + " unless given)")
      ->check(positive_integer())->default_str(std::to_string(mlp.epochs))->group(group);
  app.add_option("--batch", t.batch, "Batch size")->check(positive_integer())->capture_default_str()->group(group);
  app.add_option("--lr", t.learning_rate,
                 "Learning rate: Adam's; convnet: SGD's, " + number_text(convnet.learning_rate) + " unless given")
      ->check(positive_number())->default_str(number_text(mlp.learning_rate))->group(group);
  app.add_option("--augment", t.augment, "Augmentation of every training batch: none, or dsa (convnet only)")
      ->check(CLI::IsMember({"none", "dsa"}))->capture_default_str()->group(group);
  app.add_option("--repeats", repeats, "Trainings per training set (seeds SEED, SEED+1, ...)")
      ->check(positive_integer())->capture_default_str()->group(group);
  app.add_option("--seed", t.seed, "Seed of the first repeat")->check(seed_value())->capture_default_str()->group(group);
  app.add_option("--device", t.device, "cpu, or cuda with a CUDA build of libtorch")
      ->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str()->group(group);
}

std::function<void(const std::string&)> status_lines(const GlobalOptions& global) {
  if (global.quiet || !isatty(STDERR_FILENO)) return nullptr;
  return [](const std::string& line) { std::cerr << line << "\n"; };
}

}  // namespace subset::cli
