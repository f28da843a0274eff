// Energy saved and break-even of a selection, against hand-computed cases.
#include <doctest/doctest.h>

#include "libsubset/workflows/evaluate.h"

namespace {

using subset::energy::EnergyReport;
using subset::workflows::SelectionEvaluation;
using subset::workflows::TrainingRuns;

constexpr double kJoulesPerKwh = 3.6e6;

EnergyReport report_of_kwh(double kwh) {
  EnergyReport r;
  r.accounting.pue = 1.0;
  r.accounting.carbon_intensity = 100.0;
  r.components.push_back({"cpu", kwh * kJoulesPerKwh, 0.0, "estimated", "test"});
  return r;
}

TrainingRuns runs_of_kwh(double kwh) {
  TrainingRuns t;
  t.energy = report_of_kwh(kwh);
  return t;
}

}  // namespace

TEST_CASE("savings: a selection that pays back at once") {
  const TrainingRuns full = runs_of_kwh(10);
  SelectionEvaluation s;
  s.training = runs_of_kwh(1);
  s.selection_energy = report_of_kwh(2);
  subset::workflows::account_savings(full, s);
  CHECK(s.saved_kwh == doctest::Approx(7));
  CHECK(s.saved_percent == doctest::Approx(70));
  CHECK(s.saved_gco2e == doctest::Approx(700));
  REQUIRE(s.break_even_trainings.has_value());
  CHECK(*s.break_even_trainings == 1);
}

TEST_CASE("savings: a selection dearer than one training breaks even after k trainings") {
  const TrainingRuns full = runs_of_kwh(10);
  SelectionEvaluation s;
  s.training = runs_of_kwh(1);
  s.selection_energy = report_of_kwh(20);  // each subset training saves 9: 3 x 9 = 27 >= 20 > 2 x 9
  subset::workflows::account_savings(full, s);
  CHECK(s.saved_kwh == doctest::Approx(-11));
  CHECK(s.saved_percent == doctest::Approx(-110));
  REQUIRE(s.break_even_trainings.has_value());
  CHECK(*s.break_even_trainings == 3);
}

TEST_CASE("savings: a subset training as dear as the full one never breaks even") {
  const TrainingRuns full = runs_of_kwh(10);
  SelectionEvaluation s;
  s.training = runs_of_kwh(10);
  s.selection_energy = report_of_kwh(1);
  subset::workflows::account_savings(full, s);
  CHECK(s.saved_kwh == doctest::Approx(-1));
  CHECK_FALSE(s.break_even_trainings.has_value());
}

TEST_CASE("savings: an unrecorded selection cost counts as zero") {
  const TrainingRuns full = runs_of_kwh(4);
  SelectionEvaluation s;
  s.training = runs_of_kwh(1);
  subset::workflows::account_savings(full, s);
  CHECK(s.saved_kwh == doctest::Approx(3));
  CHECK(*s.break_even_trainings == 1);
}
