#pragma once
// What a measured scope cost: wall time, joules per device component (each saying whether it was
// measured or estimated, and how), and the accounting that turns joules into kWh and gCO2e.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace subset::energy {

// One device's energy over the scope, before PUE. `static_joules` is the part of `joules` that the
// device would have drawn idle over the same wall time (the P_static x T term); the rest is dynamic.
struct Component {
  std::string name;         // "cpu", "memory", "package-0", "dram-0", "gpu-0", ...
  double joules = 0;
  double static_joules = 0;
  std::string source;       // "measured" or "estimated"
  std::string method;       // how, in words: "RAPL counter intel-rapl:0", "12.3 CPU-s x 4 W/core (...)"
};

// How joules become kWh and gCO2e: E_facility = PUE x E_devices.
struct Accounting {
  double pue = 0;
  double carbon_intensity = 0;   // gCO2e per kWh
  std::string carbon_source;     // e.g. "region FR: ... (source, year)" or "--carbon-intensity"
  std::string pue_source;        // e.g. "default: ... (source)" or "--pue"
};

struct EnergyReport {
  double seconds = 0;            // wall time of the scope
  double cpu_seconds = 0;        // CPU time of the measured process(es) over the scope
  std::vector<Component> components;
  Accounting accounting;
  std::vector<std::string> notes;  // why a device is not measured, fallbacks taken, ...

  double device_joules() const;    // sum over components
  double static_joules() const;
  double dynamic_joules() const;
  double kwh() const;              // device_joules x PUE / 3.6e6
  double gco2e() const;            // kwh x carbon intensity
};

// Sum of two scopes' reports (seconds and joules add; components are matched by name; the
// accounting of `a` is kept).
EnergyReport add_reports(const EnergyReport& a, const EnergyReport& b);
// The same device joules priced with other accounting (a recorded report, re-read under today's
// --pue / --region).
EnergyReport reprice(EnergyReport report, const Accounting& accounting);

// JSON: {"seconds", "cpu_seconds", "joules", "static_joules", "dynamic_joules", "kwh", "gco2e",
//        "pue", "pue_source", "carbon_intensity", "carbon_source",
//        "components": [{"name", "joules", "static_joules", "source", "method"}], "notes": [...]}
nlohmann::json to_json(const EnergyReport& report);
// Throws subset::Error naming the missing or mistyped key, or the total (joules, kwh, ...) that does
// not equal what its components give.
EnergyReport report_from_json(const nlohmann::json& j);
// Human text, a few lines: total, per component, static/dynamic split, notes.
std::string format_report(const EnergyReport& report);

}  // namespace subset::energy
