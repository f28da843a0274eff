#include "libsubset/workflows/hpo/report.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <numeric>
#include <sstream>

namespace subset::workflows::hpo {
namespace {

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i + j) / 2.0) + 1.0;  // ties share their mean rank
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
template <class T>
nlohmann::json optional_json(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// Index of the best accuracy (the first on ties), -1 for none.
template <class Get>
int64_t best_of(size_t count, Get accuracy_of) {
  int64_t best = -1;
  double best_acc = -1;
  for (size_t i = 0; i < count; ++i) {
    const std::optional<double> a = accuracy_of(i);
    if (a && *a > best_acc) {
      best_acc = *a;
      best = static_cast<int64_t>(i);
    }
  }
  return best;
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "-";
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

std::string scientific(double v) {
  std::ostringstream os;
  os << std::scientific << std::setprecision(3) << v;
  return os.str();
}

}  // namespace

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  double concordant_minus_discordant = 0, tied_x = 0, tied_y = 0, pairs = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      ++pairs;
      const double dx = x[i] - x[j], dy = y[i] - y[j];
      if (dx == 0) ++tied_x;
      if (dy == 0) ++tied_y;
      if (dx != 0 && dy != 0) concordant_minus_discordant += (dx > 0) == (dy > 0) ? 1 : -1;
    }
  const double denominator = std::sqrt((pairs - tied_x) * (pairs - tied_y));
  return denominator > 0 ? concordant_minus_discordant / denominator : NAN;
}

double spearman_rho(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 2) return NAN;
  const std::vector<double> rx = average_ranks({x.begin(), x.begin() + static_cast<std::ptrdiff_t>(n)});
  const std::vector<double> ry = average_ranks({y.begin(), y.begin() + static_cast<std::ptrdiff_t>(n)});
  const double mean = (static_cast<double>(n) + 1) / 2;  // of ranks 1..n, ties or not
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : NAN;
}

const TrialRecord* find_trial(const HpoReport& report, const std::string& id, const std::string& set) {
  for (const TrialRecord& t : report.trials)
    if (t.config_id == id && t.set == set) return &t;
  return nullptr;
}

HpoReport make_report(std::vector<ConfigEntry> configs, std::vector<CoresetInfo> coresets,
                      std::vector<TrialRecord> trials, std::vector<std::string> notes) {
  HpoReport r;
  r.configs = std::move(configs);
  r.coresets = std::move(coresets);
  r.trials = std::move(trials);
  r.notes = std::move(notes);
  const auto accuracy = [&](size_t config, const std::string& set) -> std::optional<double> {
    const TrialRecord* t = find_trial(r, r.configs[config].id, set);
    return t ? std::optional<double>(t->accuracy) : std::nullopt;
  };
  for (const TrialRecord& t : r.trials)
    if (t.set == "full") r.full_search_kwh += t.energy.kwh();
  const int64_t full_best = best_of(r.configs.size(), [&](size_t i) { return accuracy(i, "full"); });
  if (full_best >= 0) r.full_best = r.configs[static_cast<size_t>(full_best)].id;
  for (const CoresetInfo& c : r.coresets) {
    CoresetSummary s;
    s.set = c.id;
    s.n = c.n;
    s.selection_kwh = c.selection_energy ? c.selection_energy->kwh() : 0.0;
    s.search_kwh = s.selection_kwh;
    std::vector<double> on_coreset, on_full;
    for (size_t i = 0; i < r.configs.size(); ++i) {
      const TrialRecord* t = find_trial(r, r.configs[i].id, c.id);
      if (!t) continue;
      ++s.configs_trained;
      s.search_kwh += t->energy.kwh();
      if (const TrialRecord* f = find_trial(r, r.configs[i].id, "full")) {
        on_coreset.push_back(t->accuracy);
        on_full.push_back(f->accuracy);
        s.full_search_kwh += f->energy.kwh();
      }
    }
    s.configs_compared = static_cast<int64_t>(on_coreset.size());
    s.kendall_tau = kendall_tau_b(on_coreset, on_full);
    s.spearman = spearman_rho(on_coreset, on_full);
    const int64_t best = best_of(r.configs.size(), [&](size_t i) { return accuracy(i, c.id); });
    if (best >= 0) {
      s.best_config = r.configs[static_cast<size_t>(best)].id;
      const std::optional<double> best_full = accuracy(static_cast<size_t>(best), "full");
      if (best_full && full_best >= 0) {
        s.regret = *accuracy(static_cast<size_t>(full_best), "full") - *best_full;
        // A tie on the full data is a tie: either configuration is what the full search would pick.
        s.top1_agreement = *s.regret == 0;
      }
    }
    if (s.full_search_kwh > 0) s.energy_ratio = s.search_kwh / s.full_search_kwh;
    r.summaries.push_back(s);
  }
  return r;
}

nlohmann::json to_json(const HpoReport& r) {
  nlohmann::json configs = nlohmann::json::array();
  for (const ConfigEntry& c : r.configs) {
    nlohmann::json accuracy = nlohmann::json::object();
    for (const TrialRecord& t : r.trials)
      if (t.config_id == c.id) accuracy[t.set] = t.accuracy;
    configs.push_back({{"id", c.id}, {"hash", config_hash(c.config)}, {"config", c.config}, {"accuracy", accuracy}});
  }
  nlohmann::json coresets = nlohmann::json::array();
  for (size_t i = 0; i < r.summaries.size(); ++i) {
    const CoresetSummary& s = r.summaries[i];
    const CoresetInfo& c = r.coresets[i];
    coresets.push_back({{"set", s.set}, {"label", c.label}, {"n", s.n}, {"configs_trained", s.configs_trained},
                        {"configs_compared", s.configs_compared}, {"kendall_tau", number_or_null(s.kendall_tau)},
                        {"spearman", number_or_null(s.spearman)}, {"best_config", s.best_config},
                        {"top1_agreement", optional_json(s.top1_agreement)}, {"regret", optional_json(s.regret)},
                        {"selection_kwh", s.selection_kwh}, {"search_kwh", s.search_kwh},
                        {"full_search_kwh", s.full_search_kwh}, {"energy_ratio", optional_json(s.energy_ratio)},
                        {"selection_energy", c.selection_energy ? energy::to_json(*c.selection_energy)
                                                                : nlohmann::json(nullptr)}});
  }
  nlohmann::json trials = nlohmann::json::array();
  for (const TrialRecord& t : r.trials) trials.push_back(to_json(t));
  nlohmann::json out = {{"configs", configs},      {"coresets", coresets},          {"full_best", r.full_best},
                        {"full_search_kwh", r.full_search_kwh}, {"trials", trials}, {"notes", r.notes}};
  if (!r.halving.empty()) {
    out["halving"] = nlohmann::json::array();
    for (const HalvingSummary& h : r.halving) out["halving"].push_back(to_json(h));
  }
  return out;
}

std::string hpo_results_csv(const HpoReport& r) {
  std::ostringstream os;
  os << std::setprecision(10)
     << "set,n,configs_trained,configs_compared,kendall_tau,spearman,best_config,top1_agreement,regret,"
        "selection_kwh,search_kwh,full_search_kwh,energy_ratio\n";
  const auto opt = [](const auto& v) {
    std::ostringstream o;
    o << std::setprecision(10);
    if (v) o << *v;
    return o.str();
  };
  for (const CoresetSummary& s : r.summaries) {
    os << s.set << "," << s.n << "," << s.configs_trained << "," << s.configs_compared << ","
       << (std::isfinite(s.kendall_tau) ? opt(std::optional<double>(s.kendall_tau)) : "") << ","
       << (std::isfinite(s.spearman) ? opt(std::optional<double>(s.spearman)) : "") << "," << s.best_config << ","
       << (s.top1_agreement ? (*s.top1_agreement ? "true" : "false") : "") << "," << opt(s.regret) << ","
       << s.selection_kwh << "," << s.search_kwh << "," << s.full_search_kwh << "," << opt(s.energy_ratio) << "\n";
  }
  return os.str();
}

std::string format_hpo(const HpoReport& r) {
  std::ostringstream os;
  os << "test accuracy (%) per configuration\n" << std::left << std::setw(6) << "config";
  for (const CoresetInfo& c : r.coresets) os << " " << std::setw(14) << c.id;
  os << " " << std::setw(8) << "full" << " settings\n";
  for (const ConfigEntry& c : r.configs) {
    os << std::setw(6) << c.id;
    for (const CoresetInfo& s : r.coresets) {
      const TrialRecord* t = find_trial(r, c.id, s.id);
      os << " " << std::setw(14) << (t ? fixed(100 * t->accuracy, 2) : "-");
    }
    const TrialRecord* f = find_trial(r, c.id, "full");
    os << " " << std::setw(8) << (f ? fixed(100 * f->accuracy, 2) : "-") << " " << config_text(c.config) << "\n";
  }
  os << "\n" << std::setw(14) << "coreset" << std::right << std::setw(7) << "n" << std::setw(8) << "tau"
     << std::setw(9) << "spearman" << std::setw(6) << "best" << std::setw(6) << "top1" << std::setw(8) << "regret"
     << std::setw(12) << "search kWh" << std::setw(12) << "full kWh" << std::setw(8) << "ratio" << "\n";
  for (const CoresetSummary& s : r.summaries) {
    os << std::left << std::setw(14) << s.set << std::right << std::setw(7) << s.n << std::setw(8)
       << fixed(s.kendall_tau, 3) << std::setw(9) << fixed(s.spearman, 3) << std::setw(6) << s.best_config
       << std::setw(6) << (s.top1_agreement ? (*s.top1_agreement ? "yes" : "no") : "-") << std::setw(8)
       << (s.regret ? fixed(100 * *s.regret, 2) : "-") << std::setw(12) << scientific(s.search_kwh) << std::setw(12)
       << scientific(s.full_search_kwh) << std::setw(8) << (s.energy_ratio ? fixed(*s.energy_ratio, 3) : "-")
       << "\n";
  }
  os << "regret in accuracy points; search kWh = selection + trainings on the coreset; full kWh = full-data "
        "trainings of the same configurations\n";
  os << format_halving(r.halving);
  for (const std::string& n : r.notes) os << "note: " << n << "\n";
  return os.str();
}

}  // namespace subset::workflows::hpo
