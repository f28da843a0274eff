// Tests for libsubset/energy/report.h: the kWh and gCO2e arithmetic, add_reports and reprice, the
// JSON form (documented keys, round trip, malformed input) and the human text.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/energy/report.h"
#include "support/error_of.h"

using namespace subset::energy;
using namespace subset::test;

namespace {

Accounting accounting(double pue, double intensity) {
  Accounting a;
  a.pue = pue;
  a.pue_source = "test pue";
  a.carbon_intensity = intensity;
  a.carbon_source = "test intensity";
  return a;
}

EnergyReport sample_report() {
  EnergyReport r;
  r.seconds = 12.5;
  r.cpu_seconds = 20.25;
  r.components = {{"package-0", 1.8e6, 1.0e6, "measured", "RAPL counter intel-rapl:0"},
                  {"memory", 1.8e6, 1.8e6, "estimated", "peak RSS x 0.375 W/GiB"}};
  r.accounting = accounting(1.5, 200.0);
  r.notes = {"no NVIDIA GPU measured: test"};
  return r;
}

std::string message_of(const nlohmann::json& j) {
  return error_of([&] { subset::energy::report_from_json(j); }).message();
}

}  // namespace

TEST_CASE("report: kWh and gCO2e from joules, PUE and intensity") {
  const EnergyReport r = sample_report();
  CHECK(r.device_joules() == 3.6e6);
  CHECK(r.static_joules() == 2.8e6);
  CHECK(r.dynamic_joules() == doctest::Approx(0.8e6).epsilon(1e-12));
  // 3.6e6 J is 1 kWh at the devices, 1.5 kWh at the facility, x 200 g/kWh.
  CHECK(r.kwh() == doctest::Approx(1.5).epsilon(1e-12));
  CHECK(r.gco2e() == doctest::Approx(300.0).epsilon(1e-12));
}

TEST_CASE("report: add_reports matches components by name and keeps a's accounting") {
  EnergyReport a = sample_report();
  EnergyReport b;
  b.seconds = 2.5;
  b.cpu_seconds = 0.75;
  b.components = {{"memory", 10.0, 10.0, "estimated", "peak RSS x 0.375 W/GiB"},
                  {"package-0", 5.0, 1.0, "estimated", "CPU time model"},
                  {"gpu-0", 7.0, 2.0, "measured", "NVML"}};
  b.accounting = accounting(2.0, 10.0);
  b.notes = {"no NVIDIA GPU measured: test", "another note"};
  const EnergyReport s = subset::energy::add_reports(a, b);
  CHECK(s.seconds == 15.0);
  CHECK(s.cpu_seconds == 21.0);
  REQUIRE(s.components.size() == 3);
  CHECK(s.components[0].name == "package-0");
  CHECK(s.components[0].joules == 1.8e6 + 5.0);
  CHECK(s.components[0].static_joules == 1.0e6 + 1.0);
  // Measured plus estimated is an estimate, and both methods are kept.
  CHECK(s.components[0].source == "estimated");
  CHECK(s.components[0].method == "RAPL counter intel-rapl:0 + CPU time model");
  CHECK(s.components[1].name == "memory");
  CHECK(s.components[1].joules == 1.8e6 + 10.0);
  CHECK(s.components[1].method == "peak RSS x 0.375 W/GiB");
  CHECK(s.components[2].name == "gpu-0");
  CHECK(s.components[2].joules == 7.0);
  CHECK(s.accounting.pue == 1.5);
  CHECK(s.accounting.carbon_intensity == 200.0);
  CHECK(s.notes == std::vector<std::string>{"no NVIDIA GPU measured: test", "another note"});
}

TEST_CASE("report: reprice keeps the joules and changes kWh and gCO2e") {
  const EnergyReport r = sample_report();
  const EnergyReport p = subset::energy::reprice(r, accounting(1.0, 50.0));
  CHECK(p.device_joules() == r.device_joules());
  CHECK(p.kwh() == doctest::Approx(1.0).epsilon(1e-12));
  CHECK(p.gco2e() == doctest::Approx(50.0).epsilon(1e-12));
  CHECK(p.accounting.pue_source == "test pue");
}

TEST_CASE("report: JSON has the documented keys and round-trips") {
  const EnergyReport r = sample_report();
  const nlohmann::json j = subset::energy::to_json(r);
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  CHECK(keys == std::set<std::string>{"seconds", "cpu_seconds", "joules", "static_joules", "dynamic_joules", "kwh", "gco2e",
                                      "pue", "pue_source", "carbon_intensity", "carbon_source", "components", "notes"});
  std::set<std::string> component_keys;
  for (const auto& [k, v] : j["components"][0].items()) component_keys.insert(k);
  CHECK(component_keys == std::set<std::string>{"name", "joules", "static_joules", "source", "method"});
  CHECK(j["joules"] == 3.6e6);
  CHECK(j["kwh"].get<double>() == doctest::Approx(1.5).epsilon(1e-12));

  // Through text, as a selection file stores it.
  const EnergyReport back = subset::energy::report_from_json(nlohmann::json::parse(j.dump()));
  CHECK(back.seconds == r.seconds);
  CHECK(back.cpu_seconds == r.cpu_seconds);
  REQUIRE(back.components.size() == r.components.size());
  for (size_t i = 0; i < r.components.size(); ++i) {
    CHECK(back.components[i].name == r.components[i].name);
    CHECK(back.components[i].joules == r.components[i].joules);
    CHECK(back.components[i].static_joules == r.components[i].static_joules);
    CHECK(back.components[i].source == r.components[i].source);
    CHECK(back.components[i].method == r.components[i].method);
  }
  CHECK(back.accounting.pue == r.accounting.pue);
  CHECK(back.accounting.pue_source == r.accounting.pue_source);
  CHECK(back.accounting.carbon_intensity == r.accounting.carbon_intensity);
  CHECK(back.accounting.carbon_source == r.accounting.carbon_source);
  CHECK(back.notes == r.notes);
  CHECK(subset::energy::to_json(back) == j);
}

TEST_CASE("report: malformed JSON is refused with the key named") {
  const nlohmann::json good = subset::energy::to_json(sample_report());
  auto without = [&](const std::string& key) {
    nlohmann::json j = good;
    j.erase(key);
    return j;
  };
  auto with = [&](const std::string& key, nlohmann::json v) {
    nlohmann::json j = good;
    j[key] = std::move(v);
    return j;
  };
  auto with_component = [&](const std::string& key, nlohmann::json v) {
    nlohmann::json j = good;
    j["components"][1][key] = std::move(v);
    return j;
  };
  CHECK(error_of([&] { subset::energy::report_from_json(without("seconds")); }).where() == "energy report JSON");
  CHECK(message_of(without("seconds")) == "missing key 'seconds'");
  CHECK(message_of(without("notes")) == "missing key 'notes'");
  CHECK(message_of(with("pue", "1.5")) == "'pue' must be a number, got string");
  CHECK(message_of(with("pue", 0.5)) == "'pue' must be >= 1, got 0.5");
  CHECK(message_of(with("seconds", -1.0)) == "'seconds' must be >= 0, got -1");
  CHECK(message_of(with("components", nlohmann::json::object())) == "'components' must be an array, got object");
  CHECK(message_of(with("notes", nlohmann::json::array({1}))) == "notes[0] must be a string, got number");
  CHECK(message_of(nlohmann::json::array()) == "must be an object, got array");
  nlohmann::json missing_source = good;
  missing_source["components"][1].erase("source");
  CHECK(message_of(missing_source) == "components[1]: missing key 'source'");
  CHECK(message_of(with_component("source", "guessed")) ==
        "components[1]: 'source' must be \"measured\" or \"estimated\", got \"guessed\"");
  CHECK(message_of(with_component("static_joules", 2e6)) == "components[1]: 'static_joules' 2e+06 exceeds 'joules' 1.8e+06");
  CHECK(message_of(with_component("joules", -5.0)) == "components[1]: 'joules' must be >= 0, got -5");
  // Totals that do not match their parts.
  CHECK(message_of(with("joules", 1.0)).rfind("'joules' is 1 but the components give", 0) == 0);
  CHECK(message_of(with("gco2e", 1.0)).rfind("'gco2e' is 1 but the components give", 0) == 0);
}

TEST_CASE("report: format_report names totals, components and notes") {
  const std::string text = subset::energy::format_report(sample_report());
  CHECK(text.find("energy: 1.5 kWh, 300 gCO2e (3.6e+06 J at the devices x PUE 1.5; 200 gCO2e/kWh: test intensity)") == 0);
  CHECK(text.find("12.500 s wall, 20.250 s CPU; static 2.8e+06 J, dynamic 8e+05 J") != std::string::npos);
  CHECK(text.find("package-0: 1.8e+06 J (static 1e+06 J), measured: RAPL counter intel-rapl:0") != std::string::npos);
  CHECK(text.find("memory: 1.8e+06 J (static 1.8e+06 J), estimated:") != std::string::npos);
  CHECK(text.find("note: no NVIDIA GPU measured: test") != std::string::npos);
}
