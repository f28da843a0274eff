#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "libsubset/workflows/bench.h"

namespace subset::workflows {
namespace {

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += (c == '"') ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

double embedding_kwh(const BenchRow& row) { return row.embedding_energy ? row.embedding_energy->kwh() : 0.0; }
double selection_only_kwh(const BenchRow& row) {
  const auto& total = row.evaluation.selection_energy;
  return total ? total->kwh() - embedding_kwh(row) : 0.0;
}

// Infinity (0% accuracy) as JSON can hold it: null.
nlohmann::json finite_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

double joules_per_accuracy_point(double kwh, double accuracy) {
  const double points = 100.0 * accuracy;
  return points > 0 ? kwh * 3.6e6 / points : std::numeric_limits<double>::infinity();
}

double joules_per_accuracy_point(const BenchRow& row) {
  const SelectionEvaluation& e = row.evaluation;
  const double selection_kwh = e.selection_energy ? e.selection_energy->kwh() : 0.0;  // embedding included
  return joules_per_accuracy_point(selection_kwh + e.training.energy.kwh(), e.training.accuracy_mean);
}

double joules_per_accuracy_point(const TrainingRuns& full) {
  return joules_per_accuracy_point(full.energy.kwh(), full.accuracy_mean);
}

std::string seconds_text(const std::vector<double>& seconds) {
  std::string out;
  char buf[32];
  for (double s : seconds) {
    std::snprintf(buf, sizeof buf, "%.3g", s);
    out += (out.empty() ? "" : ", ") + std::string(buf);
  }
  return (out.empty() ? "-" : out) + " s";
}

std::string format_bench_timings(const BenchResult& r) {
  std::ostringstream os;
  const TrainingRuns& f = r.reference.full;
  os << "where the time went (seconds per repeat):\n";
  os << "  full: training " << seconds_text(f.seconds) << (f.cached ? " (cached: measured by an earlier run)" : "")
     << "\n";
  for (const auto& row : r.rows)
    os << "  " << row.method << " " << fraction_label(row.fraction) << ": selection " << seconds_text(row.select_seconds)
       << ", training " << seconds_text(row.evaluation.training.seconds) << "\n";
  return os.str();
}

std::string fraction_label(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", fraction);
  return buf;
}

std::string bench_results_csv(const BenchResult& r) {
  std::ostringstream os;
  os << "method,fraction,n,repeats,accuracy_mean,accuracy_std,select_seconds,select_kwh,train_seconds,train_kwh,"
        "train_gco2e,saved_kwh,saved_gco2e,saved_percent,break_even_trainings,embed_kwh,j_per_point\n";
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0.0 : s / static_cast<double>(v.size());
  };
  char buf[512];
  const TrainingRuns& f = r.reference.full;
  std::snprintf(buf, sizeof buf, "full,1,%lld,%zu,%.6f,%.6f,0,0,%.6f,%.6e,%.6e,0,0,0,,0,%.6e\n",
                static_cast<long long>(f.n), f.accuracies.size(), f.accuracy_mean, f.accuracy_std, mean(f.seconds),
                f.energy.kwh(), f.energy.gco2e(), joules_per_accuracy_point(f));
  os << buf;
  for (const auto& row : r.rows) {
    const SelectionEvaluation& e = row.evaluation;
    const double select_kwh = selection_only_kwh(row);
    std::snprintf(buf, sizeof buf, ",%s,%lld,%zu,%.6f,%.6f,%.6f,%.6e,%.6f,%.6e,%.6e,%.6e,%.6e,%.3f,",
                  fraction_label(row.fraction).c_str(), static_cast<long long>(e.training.n), e.training.accuracies.size(),
                  e.training.accuracy_mean, e.training.accuracy_std, mean(row.select_seconds), select_kwh,
                  mean(e.training.seconds), e.training.energy.kwh(), e.training.energy.gco2e(), e.saved_kwh, e.saved_gco2e,
                  e.saved_percent);
    os << csv_escape(row.method) << buf;
    if (e.break_even_trainings) os << *e.break_even_trainings;
    std::snprintf(buf, sizeof buf, ",%.6e,%.6e\n", embedding_kwh(row), joules_per_accuracy_point(row));
    os << buf;
  }
  return os.str();
}

nlohmann::json to_json(const BenchResult& r) {
  nlohmann::json j = to_json(r.reference);
  j.erase("selections");
  j["rows"] = nlohmann::json::array();
  nlohmann::json selections = to_json([&] {
    EvaluateResult e;
    for (const auto& row : r.rows) e.selections.push_back(row.evaluation);
    return e;
  }())["selections"];
  for (size_t i = 0; i < r.rows.size(); ++i) {
    nlohmann::json row = selections[i];
    row["fraction"] = r.rows[i].fraction;
    row["select_seconds"] = r.rows[i].select_seconds;
    // selection_energy counts the embedding too; these split it.
    row["embed_kwh"] = embedding_kwh(r.rows[i]);
    row["select_kwh"] = selection_only_kwh(r.rows[i]);
    row["j_per_point"] = finite_or_null(joules_per_accuracy_point(r.rows[i]));
    j["rows"].push_back(std::move(row));
  }
  if (j.contains("full") && j["full"].is_object()) j["full"]["j_per_point"] = finite_or_null(joules_per_accuracy_point(r.reference.full));
  return j;
}

std::string format_bench(const BenchResult& r) {
  std::ostringstream os;
  const EvaluateResult& ref = r.reference;
  // The method column fits the longest label (METHOD:PARAM=VALUE... entries are long).
  int width = 12;
  for (const auto& row : r.rows) width = std::max(width, static_cast<int>(row.method.size()));
  char line[512];
  std::snprintf(line, sizeof line, "%-*s %8s %7s %11s %11s %11s  %-16s %9s %6s  %s\n", width, "method", "fraction", "n",
                "select kWh", "train kWh", "saved kWh", "test-acc", "J/pt", "saved", "epochs");
  os << "proxy " << ref.training.model << ", " << schedule_text(resolve_defaults(ref.training)) << ", "
     << repeats_text(ref.repeats) << (ref.repeats > 1 ? " (selection and training repeated)" : "")
     << "; energy per run at PUE " << ref.accounting.pue << ", "
     << ref.accounting.carbon_intensity << " gCO2e/kWh; J/pt: joules of selection + one training per point of "
        "test accuracy\n"
     << line;
  const auto acc = accuracy_text;
  std::snprintf(line, sizeof line, "%-*s %8s %7lld %11s %11.3e %11s  %-16s %9.3g %6s  %s%s\n", width, "full", "1",
                static_cast<long long>(ref.full.n), "-", ref.full.energy.kwh(), "-", acc(ref.full).c_str(),
                joules_per_accuracy_point(ref.full), "-", epochs_summary(ref.full).c_str(),
                ref.full.cached ? " (cached)" : "");
  os << line;
  for (const auto& row : r.rows) {
    const SelectionEvaluation& e = row.evaluation;
    std::snprintf(line, sizeof line, "%-*s %8s %7lld %11.3e %11.3e %11.3e  %-16s %9.3g %5.1f%%  %s\n", width,
                  row.method.c_str(), fraction_label(row.fraction).c_str(), static_cast<long long>(e.training.n),
                  e.selection_energy ? e.selection_energy->kwh() : 0.0, e.training.energy.kwh(), e.saved_kwh,
                  acc(e.training).c_str(), joules_per_accuracy_point(row), e.saved_percent,
                  epochs_summary(e.training).c_str());
    os << line;
  }
  for (const auto& n : ref.notes) os << "note: " << n << "\n";
  os << "results: " << r.output_dir << "/results.json, results.csv" << (r.plotted ? ", plot.png" : "") << "\n";
  return os.str();
}

}  // namespace subset::workflows
