// The reports of `subset hpo` (workflows/hpo/report.h, ledger.h): rank correlations against
// hand-computed cases, the per-coreset metrics, and the ledger's handling of a torn last line.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/workflows/hpo/ledger.h"
#include "libsubset/workflows/hpo/report.h"
#include "support/error_of.h"

using nlohmann::json;
using subset::test::error_of;
namespace hpo = subset::workflows::hpo;
namespace fs = std::filesystem;

TEST_CASE("Kendall tau-b and Spearman against hand-computed cases") {
  CHECK(hpo::kendall_tau_b({1, 2, 3, 4, 5}, {2, 4, 6, 8, 10}) == doctest::Approx(1));
  CHECK(hpo::kendall_tau_b({1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}) == doctest::Approx(-1));
  // One discordant pair of six: (5 - 1) / 6; ranks differ by 0, 1, -1, 0: 1 - 6 * 2 / (4 * 15).
  CHECK(hpo::kendall_tau_b({1, 2, 3, 4}, {1, 3, 2, 4}) == doctest::Approx(4.0 / 6));
  CHECK(hpo::spearman_rho({1, 2, 3, 4}, {1, 3, 2, 4}) == doctest::Approx(0.8));
  // A tie in x: 5 concordant pairs, 1 tied; tau-b = 5 / sqrt(5 * 6). Average ranks 1, 2.5, 2.5, 4:
  // rho = 4.5 / sqrt(4.5 * 5).
  CHECK(hpo::kendall_tau_b({1, 2, 2, 3}, {1, 2, 3, 4}) == doctest::Approx(5 / std::sqrt(30.0)));
  CHECK(hpo::spearman_rho({1, 2, 2, 3}, {1, 2, 3, 4}) == doctest::Approx(4.5 / std::sqrt(22.5)));
  // Undefined: a constant sample, fewer than two pairs.
  CHECK(std::isnan(hpo::kendall_tau_b({1, 1, 1}, {1, 2, 3})));
  CHECK(std::isnan(hpo::spearman_rho({1, 1, 1}, {1, 2, 3})));
  CHECK(std::isnan(hpo::kendall_tau_b({1}, {1})));
  CHECK(std::isnan(hpo::spearman_rho({}, {})));
}

namespace {

subset::energy::EnergyReport joules(double j) {
  subset::energy::EnergyReport r;
  r.accounting.pue = 1;
  subset::energy::Component c;
  c.name = "cpu";
  c.joules = j;
  c.source = "estimated";
  c.method = "test";
  r.components.push_back(c);
  return r;
}

hpo::TrialRecord trial(const std::string& id, const std::string& set, double accuracy, double j) {
  hpo::TrialRecord t;
  t.config_id = id;
  t.config = json{{"hidden", id}};
  t.config_hash = hpo::config_hash(t.config);
  t.set = set;
  t.accuracy = accuracy;
  t.energy = joules(j);
  return t;
}

}  // namespace

TEST_CASE("per coreset: rankings over the configurations trained on both, regret, top-1 and energy") {
  std::vector<hpo::ConfigEntry> configs;
  for (const char* id : {"c0", "c1", "c2"}) configs.push_back({id, json{{"hidden", id}}});
  hpo::CoresetInfo a{"a", "a", 10, joules(3.6e6)};        // 1 kWh to select
  hpo::CoresetInfo b{"b", "b", 10, std::nullopt};
  // Full: c2 best (0.9), then c1, then c0. Coreset a ranks the same; b picks c0, the worst.
  std::vector<hpo::TrialRecord> trials = {
      trial("c0", "a", 0.5, 3.6e6), trial("c1", "a", 0.6, 3.6e6), trial("c2", "a", 0.7, 3.6e6),
      trial("c0", "b", 0.9, 0),     trial("c1", "b", 0.6, 0),     trial("c2", "b", 0.5, 0),
      trial("c0", "full", 0.7, 7.2e6), trial("c1", "full", 0.8, 7.2e6), trial("c2", "full", 0.9, 7.2e6)};
  const hpo::HpoReport r = hpo::make_report(configs, {a, b}, trials, {});
  CHECK(r.full_best == "c2");
  CHECK(r.full_search_kwh == doctest::Approx(6));
  const hpo::CoresetSummary& sa = r.summaries[0];
  CHECK(sa.configs_compared == 3);
  CHECK(sa.kendall_tau == doctest::Approx(1));
  CHECK(sa.spearman == doctest::Approx(1));
  CHECK(sa.best_config == "c2");
  CHECK(*sa.top1_agreement);
  CHECK(*sa.regret == doctest::Approx(0));
  CHECK(sa.selection_kwh == doctest::Approx(1));
  CHECK(sa.search_kwh == doctest::Approx(4));  // selection + 3 trainings
  CHECK(sa.full_search_kwh == doctest::Approx(6));
  CHECK(*sa.energy_ratio == doctest::Approx(4.0 / 6));
  const hpo::CoresetSummary& sb = r.summaries[1];
  CHECK(sb.kendall_tau == doctest::Approx(-1));
  CHECK(sb.best_config == "c0");
  CHECK(!*sb.top1_agreement);
  CHECK(*sb.regret == doctest::Approx(0.2));
  CHECK(sb.selection_kwh == 0);
  const json j = hpo::to_json(r);
  CHECK(j["coresets"][1]["regret"].get<double>() == doctest::Approx(0.2));
  CHECK(j["configs"][0]["accuracy"]["full"].get<double>() == doctest::Approx(0.7));
  const std::string csv = hpo::hpo_results_csv(r);
  CHECK(csv.find("\nb,10,3,3,-1,-1,c0,false,0.2,") != std::string::npos);
  CHECK(hpo::format_hpo(r).find("c0     50.00          90.00          70.00    hidden=c0") != std::string::npos);
}

TEST_CASE("without full-data trainings there is no ranking, regret or ratio, only the coreset's best") {
  std::vector<hpo::ConfigEntry> configs = {{"c0", json{{"hidden", 1}}}, {"c1", json{{"hidden", 2}}}};
  const hpo::HpoReport r = hpo::make_report(
      configs, {{"a", "a", 5, std::nullopt}}, {trial("c0", "a", 0.4, 1), trial("c1", "a", 0.6, 1)}, {});
  const hpo::CoresetSummary& s = r.summaries[0];
  CHECK(s.best_config == "c1");
  CHECK(s.configs_compared == 0);
  CHECK(std::isnan(s.kendall_tau));
  CHECK(!s.regret);
  CHECK(!s.top1_agreement);
  CHECK(!s.energy_ratio);
  CHECK(hpo::to_json(r)["coresets"][0]["kendall_tau"].is_null());
}

TEST_CASE("the ledger: whole lines are read back, a torn last line is dropped, damage elsewhere refused") {
  const fs::path dir = fs::temp_directory_path() / ("subset-hpo-ledger-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "trials.jsonl").string();
  CHECK(hpo::read_ledger(path).trials.empty());  // missing: empty
  hpo::append_trial(path, trial("c0", "a", 0.5, 10));
  hpo::append_trial(path, trial("c1", "a", 0.75, 20));
  hpo::LedgerContents whole = hpo::read_ledger(path);
  REQUIRE(whole.trials.size() == 2);
  CHECK(!whole.torn);
  CHECK(whole.trials[1].accuracy == 0.75);
  CHECK(whole.trials[1].key() == hpo::config_hash(json{{"hidden", "c1"}}) + "/a");
  CHECK(whole.trials[1].energy.device_joules() == doctest::Approx(20));
  const auto size = static_cast<int64_t>(fs::file_size(path));
  CHECK(whole.whole_bytes == size);
  {
    std::ofstream(path, std::ios::app) << R"({"config_id": "c2", "acc)";  // killed mid-write
  }
  const hpo::LedgerContents torn = hpo::read_ledger(path);
  CHECK(torn.torn);
  CHECK(torn.trials.size() == 2);
  CHECK(torn.whole_bytes == size);
  hpo::truncate_ledger(path, torn.whole_bytes);
  CHECK(static_cast<int64_t>(fs::file_size(path)) == size);
  {
    std::ofstream(path, std::ios::app) << "not json\n";
  }
  hpo::append_trial(path, trial("c2", "a", 0.1, 1));
  const subset::Error e = error_of([&] { hpo::read_ledger(path); });
  CHECK(e.message().find("the trial ledger is damaged (line 3") != std::string::npos);
  fs::remove_all(dir);
}
