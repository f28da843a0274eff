#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "libsubset/workflows/evaluate.h"

namespace subset::workflows {

const SettingsSchema<EvaluateJob>& evaluate_schema() {
  static const SettingsSchema<EvaluateJob> schema =
      SettingsSchema<EvaluateJob>("evaluate")
          .field("repeats", &EvaluateJob::repeats, "Trainings per training set (seeds SEED, SEED+1, ...)").at_least(1)
          .done();
  return schema;
}
namespace {

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

nlohmann::json runs_json(const TrainingRuns& r) {
  return {{"label", r.label}, {"n", r.n}, {"accuracies", r.accuracies}, {"accuracy_mean", r.accuracy_mean},
          {"accuracy_std", r.accuracy_std}, {"seconds", r.seconds}, {"train_kwh", r.energy.kwh()},
          {"train_gco2e", r.energy.gco2e()}, {"cached", r.cached}, {"backend", r.backend}, {"energy", energy::to_json(r.energy)},
          {"epochs_trained", r.epochs}, {"best_epochs", r.best_epochs},
          {"validation_accuracies", r.validation_accuracies.empty() ? nlohmann::json(nullptr)
                                                                     : nlohmann::json(r.validation_accuracies)}};
}

template <class T>
double mean_of(const std::vector<T>& v) {
  double sum = 0;
  for (T x : v) sum += static_cast<double>(x);
  return v.empty() ? 0.0 : sum / static_cast<double>(v.size());
}

}  // namespace

std::string schedule_text(const TrainSettings& t) {
  std::ostringstream os;
  if (t.schedule == "steps") {
    os << t.steps.value_or(kDefaultSteps) << " steps";
  } else if (t.schedule == "early-stop") {
    os << "early-stop (validation " << fmt("%g", 100 * t.validation.value_or(kDefaultValidation)) << "%, patience "
       << t.patience.value_or(kDefaultPatience) << ", at most " << t.epochs.value_or(0) << " epochs)";
  } else {
    os << t.epochs.value_or(0) << " epochs";
  }
  return os.str();
}

std::string epochs_summary(const TrainingRuns& t) {
  if (t.validation_accuracies.empty()) return fmt("%.1f", mean_of(t.epochs));
  return fmt("%.1f", mean_of(t.epochs)) + "/" + fmt("%.1f", mean_of(t.best_epochs));
}

std::string accuracy_text(const TrainingRuns& t) {
  char b[64];
  if (t.accuracies.size() <= 1) std::snprintf(b, sizeof b, "%.2f%%", 100 * t.accuracy_mean);
  else std::snprintf(b, sizeof b, "%.2f%% ± %.2f", 100 * t.accuracy_mean, 100 * t.accuracy_std);
  return b;
}

std::string repeats_text(int64_t repeats) { return std::to_string(repeats) + (repeats == 1 ? " repeat" : " repeats"); }

namespace {

// "  epochs 23.3" and, under early-stop, "  epochs 23.3/13.3 val-acc 84.17%".
std::string epochs_text(const TrainingRuns& t) {
  if (t.epochs.empty()) return "";
  std::string out = "  epochs " + epochs_summary(t);
  if (!t.validation_accuracies.empty()) out += " val-acc " + fmt("%.2f%%", 100 * mean_of(t.validation_accuracies));
  return out;
}

}  // namespace

void account_savings(const TrainingRuns& full, SelectionEvaluation& s) {
  const double e_full = full.energy.kwh();
  const double e_subset = s.training.energy.kwh();
  const double e_select = s.selection_energy ? s.selection_energy->kwh() : 0.0;
  s.saved_kwh = e_full - (e_select + e_subset);
  const double intensity = full.energy.accounting.carbon_intensity;
  s.saved_gco2e = s.saved_kwh * intensity;
  s.saved_percent = e_full > 0 ? 100.0 * s.saved_kwh / e_full : 0.0;
  s.break_even_trainings.reset();
  const double per_training = e_full - e_subset;
  if (per_training > 0) s.break_even_trainings = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(e_select / per_training)));
}

nlohmann::json to_json(const EvaluateResult& r) {
  // run_evaluate's result is resolved already; one put together by hand (bench's rows) may not be.
  const TrainSettings trained = resolve_defaults(r.training);
  nlohmann::json j;
  j["store"] = r.store;
  // The model's parameters under their option names, those of its model only.
  j.update(train_schema().to_json(trained, trained.model));
  j["optimizer"] = trained.model == "convnet" ? "sgd" : "adam";
  j["seed"] = r.training.seed;
  j["repeats"] = r.repeats;
  j["pue"] = r.accounting.pue;
  j["carbon_intensity"] = r.accounting.carbon_intensity;
  j["carbon_source"] = r.accounting.carbon_source;
  j["full"] = r.has_full ? runs_json(r.full) : nlohmann::json(nullptr);
  j["selections"] = nlohmann::json::array();
  for (const auto& s : r.selections) {
    nlohmann::json e = runs_json(s.training);
    e["path"] = s.path;
    e["kind"] = s.kind;
    e["method"] = s.method;
    if (s.kind == "store") e["source"] = s.source;
    e["weighted"] = s.weighted;
    e["select_kwh"] = s.selection_energy ? nlohmann::json(s.selection_energy->kwh()) : nlohmann::json(nullptr);
    e["select_seconds"] = s.selection_energy ? nlohmann::json(s.selection_energy->seconds) : nlohmann::json(nullptr);
    e["select_energy"] = s.selection_energy ? energy::to_json(*s.selection_energy) : nlohmann::json(nullptr);
    if (r.has_full) {
      e["saved_kwh"] = s.saved_kwh;
      e["saved_gco2e"] = s.saved_gco2e;
      e["saved_percent"] = s.saved_percent;
      e["break_even_trainings"] = s.break_even_trainings ? nlohmann::json(*s.break_even_trainings) : nlohmann::json(nullptr);
    } else {
      for (const char* key : {"saved_kwh", "saved_gco2e", "saved_percent", "break_even_trainings"}) e[key] = nullptr;
    }
    j["selections"].push_back(std::move(e));
  }
  j["notes"] = r.notes;
  return j;
}

std::string format_evaluation(const EvaluateResult& r) {
  const TrainSettings trained = resolve_defaults(r.training);
  std::ostringstream os;
  os << "proxy " << r.training.model;
  if (r.training.model == "convnet") {
    os << " (SGD lr " << fmt("%g", *trained.learning_rate) << ", momentum " << fmt("%g", r.training.momentum)
       << ", weight decay " << fmt("%g", *trained.weight_decay) << ", lr x0.1 after "
       << (trained.epochs ? "epoch " + std::to_string((*trained.epochs + 1) / 2) : std::string("half the epochs"))
       << ", augment " << r.training.augment << ")";
  }
  os << ", " << schedule_text(trained) << ", " << repeats_text(r.repeats)
     << "; energy at PUE " << fmt("%.2f", r.accounting.pue) << ", " << fmt("%.0f", r.accounting.carbon_intensity)
     << " gCO2e/kWh (" << r.accounting.carbon_source << ")\n";
  // The label column fits the longest label (selection stores are labelled by their file name).
  int width = 12;
  for (const auto& s : r.selections) width = std::max(width, static_cast<int>(s.training.label.size()));
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %7s %9s %11s %11s  %s\n", width, "method", "n", "seconds", "kWh", "gCO2e",
                "test-acc");
  os << line;
  auto row = [&](const std::string& label, const TrainingRuns& t, const std::string& suffix) {
    double seconds = 0;
    for (double s : t.seconds) seconds += s;
    seconds /= std::max<size_t>(1, t.seconds.size());
    std::snprintf(line, sizeof line, "%-*s %7lld %9.2f %11.3e %11.3e  %s%s\n", width, label.c_str(),
                  static_cast<long long>(t.n), seconds, t.energy.kwh(), t.energy.gco2e(), accuracy_text(t).c_str(),
                  (epochs_text(t) + suffix).c_str());
    os << line;
  };
  if (r.has_full) row("full", r.full, r.full.cached ? "  (cached)" : "");
  for (const auto& s : r.selections) row(s.training.label, s.training, s.weighted ? "  (weighted)" : "");
  if (r.repeats > 1)
    os << "(seconds, kWh and gCO2e per training; test-acc mean ± std over repeats; epochs trained, and under "
          "early-stop the best epoch and its validation accuracy, means over repeats)\n";
  else
    os << "(seconds, kWh and gCO2e of the training; epochs trained, and under early-stop the best epoch and its "
          "validation accuracy)\n";
  for (const auto& s : r.selections) {
    os << "\n" << s.training.label << " (" << s.path << "):\n";
    const char* cost = s.kind == "store" ? "store cost      " : "selection cost  ";
    if (s.selection_energy)
      os << "  " << cost << fmt("%.2f", s.selection_energy->seconds) << " s, " << fmt("%.3e", s.selection_energy->kwh())
         << " kWh, " << fmt("%.3g", s.selection_energy->gco2e()) << " gCO2e\n";
    else
      os << "  " << cost << "not recorded in the file (counted as 0)\n";
    if (!r.has_full) continue;  // no reference: no savings
    os << "  energy saved    " << fmt("%.3e", s.saved_kwh) << " kWh, " << fmt("%.3g", s.saved_gco2e) << " gCO2e, "
       << fmt("%.1f", s.saved_percent) << "% of one full training\n";
    if (!s.break_even_trainings)
      os << "  break-even      never: a training on the subset costs as much as one on the full data\n";
    else if (*s.break_even_trainings > 1)
      os << "  break-even      after " << *s.break_even_trainings
         << " trainings on the subset (the selection costs more than one training saves)\n";
  }
  for (const auto& n : r.notes) os << "note: " << n << "\n";
  return os.str();
}

}  // namespace subset::workflows
