// Successive halving's rung arithmetic and the summary it rebuilds from the ledger (halving.h).
#include <doctest/doctest.h>

#include "libsubset/core/error.h"
#include "libsubset/workflows/hpo/halving.h"
#include "libsubset/workflows/hpo/report.h"

using namespace subset::workflows::hpo;

TEST_CASE("halving: rung sizes keep floor(k / eta), at least one") {
  CHECK(rung_sizes(24, 3, 3) == std::vector<int64_t>{24, 8, 2});
  CHECK(rung_sizes(10, 4, 3) == std::vector<int64_t>{10, 3, 1, 1});
  CHECK(rung_sizes(5, 3, 2) == std::vector<int64_t>{5, 2, 1});
  CHECK(rung_sizes(2, 2, 3) == std::vector<int64_t>{2, 1});
  CHECK(rung_sizes(1, 1, 3) == std::vector<int64_t>{1});
  CHECK_THROWS_AS(rung_sizes(4, 2, 1), subset::ParamError);
}

TEST_CASE("halving: keep_best ranks by score, ties to the lower index, unscored last") {
  using S = std::optional<double>;
  CHECK(keep_best({S(0.5), S(0.9), S(0.7), S(0.9)}, 2) == std::vector<size_t>{1, 3});
  CHECK(keep_best({S(0.5), S(0.5), S(0.5)}, 2) == std::vector<size_t>{0, 1});
  CHECK(keep_best({std::nullopt, S(0.1), S(0.2)}, 2) == std::vector<size_t>{1, 2});
  CHECK(keep_best({std::nullopt, std::nullopt}, 1) == std::vector<size_t>{0});
  CHECK(keep_best({S(0.3)}, 5) == std::vector<size_t>{0});
}

TEST_CASE("halving: walk_rungs asks each configuration of each rung once and keeps the best") {
  // Validation accuracy of configuration c on rung r: c / 10 on rung 0, (9 - c) / 10 after.
  std::vector<std::pair<size_t, size_t>> asked;
  const auto walk = walk_rungs(9, 3, 3, [&](size_t r, size_t c) -> std::optional<double> {
    asked.emplace_back(r, c);
    return r == 0 ? static_cast<double>(c) / 10 : static_cast<double>(9 - c) / 10;
  });
  REQUIRE(walk.size() == 3);
  CHECK(walk[0].size() == 9);
  CHECK(walk[1] == std::vector<size_t>{6, 7, 8});  // the three best of rung 0
  CHECK(walk[2] == std::vector<size_t>{6});        // the best of them on rung 1
  CHECK(asked.size() == 9 + 3 + 1);
}

namespace {
TrialRecord trial(const std::string& id, const std::string& set, double test, double validation, double kwh) {
  TrialRecord t;
  t.config_id = id;
  t.config_hash = id;
  t.set = set;
  t.accuracy = test;
  t.validation_accuracy = validation;
  t.energy.components.push_back({"cpu", 3.6e6 * kwh, 0, "estimated", "test"});
  t.energy.accounting.pue = 1;
  return t;
}
}  // namespace

TEST_CASE("halving: the summary picks by validation, never by test, and counts every rung's energy") {
  std::vector<ConfigEntry> configs{{"c0", {}}, {"c1", {}}, {"c2", {}}, {"c3", {}}};
  std::vector<TrialRecord> trials{
      trial("c0", "m-0.1", 0.99, 0.2, 1), trial("c1", "m-0.1", 0.10, 0.8, 1), trial("c2", "m-0.1", 0.5, 0.7, 1),
      trial("c3", "m-0.1", 0.5, 0.1, 1),
      // Rung 1 (full): c1 and c2; c2 has the better validation, c1 the better test accuracy.
      trial("c1", "full", 0.90, 0.6, 10), trial("c2", "full", 0.85, 0.9, 10)};
  HpoReport report = make_report(configs, {}, trials, {});
  const HalvingSummary s = summarize_halving(report, "m", {{"m-0.1", 0.1, 10, 0.5}, {"full", 1, 100, 0}}, 2);
  REQUIRE(s.rungs.size() == 2);
  CHECK(s.rungs[0].configs == std::vector<std::string>{"c0", "c1", "c2", "c3"});
  CHECK(s.rungs[1].configs == std::vector<std::string>{"c1", "c2"});
  CHECK(s.chosen == "c2");
  CHECK(*s.chosen_test == doctest::Approx(0.85));
  // c0 (best test on the coreset) never reached the full data; the reference is this search's rung.
  CHECK(s.regret_reference == "this search's full-data rung");
  CHECK(*s.regret == doctest::Approx(0.05));
  CHECK(s.trainings == 6);
  CHECK(s.rungs[0].kwh == doctest::Approx(4.5));
  CHECK(s.kwh == doctest::Approx(24.5));

  // With every configuration trained on the full data, the reference is the full search.
  trials.push_back(trial("c0", "full", 0.95, 0.1, 10));
  trials.push_back(trial("c3", "full", 0.2, 0.1, 10));
  report = make_report(configs, {}, trials, {});
  const HalvingSummary f = summarize_halving(report, "m", {{"m-0.1", 0.1, 10, 0.5}, {"full", 1, 100, 0}}, 2);
  CHECK(f.regret_reference == "full search");
  CHECK(*f.regret == doctest::Approx(0.10));
  CHECK(f.kwh == doctest::Approx(24.5));  // full trainings of other configurations are not this search's
}
