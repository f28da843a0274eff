#include "libsubset/workflows/hpo/halving.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/workflows/hpo/report.h"

namespace subset::workflows::hpo {
namespace {

nlohmann::json optional_number(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

std::string percent(const std::optional<double>& v) {
  if (!v) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(2) << 100 * *v;
  return os.str();
}

}  // namespace

std::vector<int64_t> rung_sizes(int64_t configs, int64_t rungs, int64_t eta) {
  SUBSET_CHECK_PARAM(eta >= 2, "eta", "eta must be at least 2, got " << eta);
  std::vector<int64_t> sizes;
  for (int64_t r = 0, k = configs; r < rungs; ++r, k = std::max<int64_t>(1, k / eta)) sizes.push_back(k);
  return sizes;
}

std::vector<size_t> keep_best(const std::vector<std::optional<double>>& scores, int64_t keep) {
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  // Stable, so equal scores keep the lower configuration index first.
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (!scores[a] || !scores[b]) return scores[a].has_value() && !scores[b].has_value();
    return *scores[a] > *scores[b];
  });
  order.resize(std::min(order.size(), static_cast<size_t>(std::max<int64_t>(0, keep))));
  std::sort(order.begin(), order.end());
  return order;
}

std::vector<std::vector<size_t>> walk_rungs(size_t configs, size_t rungs, int64_t eta,
                                            const std::function<std::optional<double>(size_t, size_t)>& validate) {
  const std::vector<int64_t> sizes = rung_sizes(static_cast<int64_t>(configs), static_cast<int64_t>(rungs), eta);
  std::vector<std::vector<size_t>> walk;
  std::vector<size_t> current(configs);
  std::iota(current.begin(), current.end(), 0);
  for (size_t r = 0; r < rungs; ++r) {
    if (r > 0) {
      std::vector<std::optional<double>> scores;
      for (size_t c : walk.back()) scores.push_back(validate(r - 1, c));
      current.clear();
      for (size_t i : keep_best(scores, sizes[r])) current.push_back(walk.back()[i]);
    }
    walk.push_back(current);
  }
  // The last rung's scores are what the search chooses by: every one of its trainings runs.
  if (!walk.empty())
    for (size_t c : walk.back()) validate(rungs - 1, c);
  return walk;
}

HalvingSummary summarize_halving(const HpoReport& r, const std::string& method, const std::vector<RungSet>& rungs,
                                 int64_t eta) {
  HalvingSummary s;
  s.method = method;
  const auto trial = [&](size_t rung, size_t c) { return find_trial(r, r.configs[c].id, rungs[rung].set); };
  const auto walk = walk_rungs(r.configs.size(), rungs.size(), eta, [&](size_t rung, size_t c) {
    const TrialRecord* t = trial(rung, c);
    return t ? t->validation_accuracy : std::nullopt;
  });
  for (size_t rung = 0; rung < walk.size(); ++rung) {
    RungSummary rs;
    rs.rung = rungs[rung];
    for (size_t c : walk[rung]) {
      rs.configs.push_back(r.configs[c].id);
      if (const TrialRecord* t = trial(rung, c)) rs.training_kwh += t->energy.kwh();
    }
    rs.kwh = rs.rung.selection_kwh + rs.training_kwh;
    s.trainings += static_cast<int64_t>(walk[rung].size());
    s.kwh += rs.kwh;
    s.rungs.push_back(std::move(rs));
  }
  if (walk.empty()) return s;
  std::vector<std::optional<double>> last;
  for (size_t c : walk.back()) {
    const TrialRecord* t = trial(walk.size() - 1, c);
    last.push_back(t ? t->validation_accuracy : std::nullopt);
  }
  const size_t chosen = walk.back()[keep_best(last, 1).at(0)];
  s.chosen = r.configs[chosen].id;
  if (const TrialRecord* t = trial(walk.size() - 1, chosen)) {
    s.chosen_validation = t->validation_accuracy;
    s.chosen_test = t->accuracy;
  }
  std::vector<size_t> all(r.configs.size());
  std::iota(all.begin(), all.end(), 0);
  const bool full_search =
      std::all_of(all.begin(), all.end(), [&](size_t c) { return find_trial(r, r.configs[c].id, "full") != nullptr; });
  s.regret_reference = full_search ? "full search" : "this search's full-data rung";
  std::optional<double> best;
  for (size_t c : full_search ? all : walk.back())
    if (const TrialRecord* t = find_trial(r, r.configs[c].id, "full")) best = std::max(best.value_or(t->accuracy), t->accuracy);
  if (best && s.chosen_test) s.regret = *best - *s.chosen_test;
  return s;
}

nlohmann::json to_json(const HalvingSummary& s) {
  nlohmann::json rungs = nlohmann::json::array();
  for (size_t i = 0; i < s.rungs.size(); ++i) {
    const RungSummary& r = s.rungs[i];
    rungs.push_back({{"rung", i}, {"set", r.rung.set}, {"fraction", r.rung.fraction}, {"n", r.rung.n},
                     {"configs", r.configs}, {"selection_kwh", r.rung.selection_kwh},
                     {"training_kwh", r.training_kwh}, {"kwh", r.kwh}});
  }
  return {{"method", s.method},
          {"chosen", s.chosen},
          {"chosen_validation", optional_number(s.chosen_validation)},
          {"chosen_test", optional_number(s.chosen_test)},
          {"regret", optional_number(s.regret)},
          {"regret_reference", s.regret_reference},
          {"trainings", s.trainings},
          {"kwh", s.kwh},
          {"rungs", rungs}};
}

std::string halving_csv(const std::vector<HalvingSummary>& searches) {
  std::ostringstream os;
  os << std::setprecision(10)
     << "method,chosen,chosen_validation,chosen_test,regret,trainings,kwh,rung,set,fraction,n,configs,"
        "selection_kwh,training_kwh,rung_kwh\n";
  const auto opt = [](const std::optional<double>& v) {
    std::ostringstream o;
    o << std::setprecision(10);
    if (v) o << *v;
    return o.str();
  };
  for (const HalvingSummary& s : searches)
    for (size_t i = 0; i < s.rungs.size(); ++i) {
      const RungSummary& r = s.rungs[i];
      os << s.method << "," << s.chosen << "," << opt(s.chosen_validation) << "," << opt(s.chosen_test) << ","
         << opt(s.regret) << "," << s.trainings << "," << s.kwh << "," << i << "," << r.rung.set << ","
         << r.rung.fraction << "," << r.rung.n << "," << r.configs.size() << "," << r.rung.selection_kwh << ","
         << r.training_kwh << "," << r.kwh << "\n";
    }
  return os.str();
}

std::string format_halving(const std::vector<HalvingSummary>& searches) {
  if (searches.empty()) return "";
  std::ostringstream os;
  os << "\nsuccessive halving (configurations kept by validation accuracy; test accuracy on the full data)\n"
     << std::left << std::setw(14) << "method" << std::right << std::setw(7) << "chosen" << std::setw(8) << "val %"
     << std::setw(8) << "test %" << std::setw(8) << "regret" << std::setw(10) << "trainings" << std::setw(12)
     << "kWh" << "  rungs (set: configurations, kWh)\n";
  for (const HalvingSummary& s : searches) {
    os << std::left << std::setw(14) << s.method << std::right << std::setw(7) << s.chosen << std::setw(8)
       << percent(s.chosen_validation) << std::setw(8) << percent(s.chosen_test) << std::setw(8)
       << (s.regret ? percent(s.regret) : "-") << std::setw(10) << s.trainings << std::setw(12) << std::scientific
       << std::setprecision(3) << s.kwh << std::defaultfloat << " ";
    for (const RungSummary& r : s.rungs)
      os << " " << r.rung.set << ": " << r.configs.size() << ", " << std::scientific << std::setprecision(2) << r.kwh
         << std::defaultfloat << ";";
    os << "\n";
  }
  os << "regret in accuracy points against the " << searches.front().regret_reference
     << "; kWh = selections + trainings of every rung\n";
  return os.str();
}

}  // namespace subset::workflows::hpo
