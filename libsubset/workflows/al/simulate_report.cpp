// What `al simulate` declares, sums up and prints, torch-free.
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "libsubset/workflows/al/init.h"
#include "libsubset/workflows/al/simulate.h"
#include "libsubset/workflows/al/strategies.h"

namespace subset::workflows::al {

const SettingsSchema<SimulateJob>& simulate_schema() {
  static const SettingsSchema<SimulateJob> schema =
      SettingsSchema<SimulateJob>("al simulate")
          .field("strategies", &SimulateJob::strategies, "Strategies to compare, comma-separated")
          .field("seed-size", &SimulateJob::seed_size, "Seed set of each repeat (the same for every strategy)")
          .at_least(1)
          .field("seed-method", &SimulateJob::seed_method,
                 "How the seed set is chosen (balanced reads the labels; kcenter and typiclust need none)")
          .one_of(seed_methods())
          .field("rounds", &SimulateJob::rounds, "Query rounds after the seed")
          .at_least(1)
          .field("repeats", &SimulateJob::repeats, "Repeats, each with its own seed set and draws")
          .at_least(1)
          .done();
  return schema;
}

std::vector<std::string> parse_strategies(const std::string& list) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::stringstream s(list);
  for (std::string name; std::getline(s, name, ',');) {
    SUBSET_CHECK_PARAM(!name.empty(), "strategies", "empty name in '" << list << "'");
    try {
      strategy_needs(name);
    } catch (const ParamError& e) {
      throw ParamError("strategies", e.what());
    }
    SUBSET_CHECK_PARAM(seen.insert(name).second, "strategies", "strategy " << name << " given twice");
    out.push_back(name);
  }
  SUBSET_CHECK_PARAM(!out.empty(), "strategies", "no strategy given");
  return out;
}

double aubc(const std::vector<int64_t>& labels, const std::vector<double>& accuracy) {
  if (labels.size() < 2) return accuracy.empty() ? 0 : accuracy.front();
  double area = 0;
  for (size_t i = 1; i < labels.size(); ++i)
    area += static_cast<double>(labels[i] - labels[i - 1]) * (accuracy[i] + accuracy[i - 1]) / 2;
  return area / static_cast<double>(labels.back() - labels.front());
}

std::vector<StrategySummary> summarise(const std::vector<Curve>& curves) {
  std::vector<StrategySummary> out;
  std::map<std::string, std::vector<const Curve*>> by;
  for (const Curve& c : curves) {
    if (!by.count(c.strategy)) out.push_back(StrategySummary{c.strategy, {}, 0, {}, 0, 0, std::nullopt});
    by[c.strategy].push_back(&c);
  }
  std::vector<int64_t> labels;
  for (const CurvePoint& p : curves.front().points) labels.push_back(p.labels);
  for (StrategySummary& s : out) {
    const auto& group = by[s.strategy];
    s.mean_accuracy.assign(labels.size(), 0);
    for (const Curve* c : group) {
      std::vector<double> acc;
      for (size_t i = 0; i < c->points.size(); ++i) {
        acc.push_back(c->points[i].accuracy);
        s.mean_accuracy[i] += c->points[i].accuracy / static_cast<double>(group.size());
      }
      s.aubc_repeats.push_back(aubc(labels, acc));
      s.kwh += c->points.back().kwh / static_cast<double>(group.size());
    }
    s.aubc = aubc(labels, s.mean_accuracy);
    s.final_accuracy = s.mean_accuracy.back();
  }
  for (const StrategySummary& r : out) {
    if (r.strategy != "random") continue;
    for (StrategySummary& s : out)
      for (size_t i = 0; i < labels.size() && !s.labels_to_random_final; ++i)
        if (s.mean_accuracy[i] >= r.final_accuracy) s.labels_to_random_final = labels[i];
  }
  return out;
}

nlohmann::json curves_json(const SimulateOutcome& o) {
  nlohmann::json curves = nlohmann::json::array();
  for (const Curve& c : o.curves) {
    nlohmann::json points = nlohmann::json::array();
    for (const CurvePoint& p : c.points)
      points.push_back({{"round", p.round}, {"labels", p.labels}, {"accuracy", p.accuracy}, {"kwh", p.kwh},
                        {"seconds", p.seconds}});
    curves.push_back({{"strategy", c.strategy}, {"repeat", c.repeat}, {"points", points}});
  }
  return {{"settings", o.settings}, {"curves", curves}};
}

nlohmann::json summary_json(const SimulateOutcome& o) {
  nlohmann::json strategies = nlohmann::json::array();
  for (const StrategySummary& s : o.summary)
    strategies.push_back({{"strategy", s.strategy},
                          {"aubc", s.aubc},
                          {"aubc_repeats", s.aubc_repeats},
                          {"mean_accuracy", s.mean_accuracy},
                          {"final_accuracy", s.final_accuracy},
                          {"kwh", s.kwh},
                          {"labels_to_random_final", s.labels_to_random_final ? nlohmann::json(*s.labels_to_random_final)
                                                                              : nlohmann::json(nullptr)}});
  return {{"settings", o.settings}, {"labels", o.labels}, {"strategies", strategies}};
}

std::string curves_csv(const SimulateOutcome& o) {
  std::ostringstream s;
  s << "strategy,repeat,round,labels,accuracy,kwh,seconds\n";
  char buf[128];
  for (const Curve& c : o.curves)
    for (const CurvePoint& p : c.points) {
      std::snprintf(buf, sizeof buf, ",%.6f,%.9g,%.4f", p.accuracy, p.kwh, p.seconds);
      s << c.strategy << "," << c.repeat << "," << p.round << "," << p.labels << buf << "\n";
    }
  return s.str();
}

std::string format_simulation(const SimulateOutcome& o) {
  std::ostringstream s;
  char buf[200];
  std::snprintf(buf, sizeof buf, "%-18s %8s %10s %12s %14s\n", "strategy", "AUBC", "final acc", "kWh",
                "labels to random's final");
  s << buf;
  for (const StrategySummary& x : o.summary) {
    const std::string need = x.labels_to_random_final ? std::to_string(*x.labels_to_random_final) : "never";
    std::snprintf(buf, sizeof buf, "%-18s %8.4f %10.4f %12.3g %14s\n", x.strategy.c_str(), x.aubc, x.final_accuracy,
                  x.kwh, need.c_str());
    s << buf;
  }
  s << "wrote " << o.output << "/curves.json, curves.csv, summary.json\n";
  return s.str();
}

}  // namespace subset::workflows::al
