#include "libsubset/energy/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "libsubset/core/error.h"

namespace subset::energy {
namespace {

constexpr double kJoulesPerKwh = 3.6e6;
const char* const kWhere = "energy report JSON";

// Recomputed totals may differ from recorded ones by the last bits of a sum; anything beyond this
// is a report whose parts do not add up (hand-edited or corrupted).
bool close(double a, double b) { return std::fabs(a - b) <= 1e-9 + 1e-6 * std::max(std::fabs(a), std::fabs(b)); }

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

const nlohmann::json& key(const nlohmann::json& j, const std::string& name, const std::string& context) {
  const auto it = j.find(name);
  SUBSET_CHECK(it != j.end(), kWhere, context << "missing key '" << name << "'");
  return *it;
}

double number(const nlohmann::json& j, const std::string& name, const std::string& context = {}) {
  const auto& v = key(j, name, context);
  SUBSET_CHECK(v.is_number(), kWhere, context << "'" << name << "' must be a number, got " << v.type_name());
  const double d = v.get<double>();
  SUBSET_CHECK(std::isfinite(d), kWhere, context << "'" << name << "' must be finite");
  return d;
}

double non_negative(const nlohmann::json& j, const std::string& name, const std::string& context = {}) {
  const double d = number(j, name, context);
  SUBSET_CHECK(d >= 0, kWhere, context << "'" << name << "' must be >= 0, got " << d);
  return d;
}

std::string text(const nlohmann::json& j, const std::string& name, const std::string& context = {}) {
  const auto& v = key(j, name, context);
  SUBSET_CHECK(v.is_string(), kWhere, context << "'" << name << "' must be a string, got " << v.type_name());
  return v.get<std::string>();
}

const nlohmann::json& array(const nlohmann::json& j, const std::string& name) {
  const auto& v = key(j, name, {});
  SUBSET_CHECK(v.is_array(), kWhere, "'" << name << "' must be an array, got " << v.type_name());
  return v;
}

Component component_from_json(const nlohmann::json& j, size_t index) {
  const std::string context = "components[" + std::to_string(index) + "]: ";
  SUBSET_CHECK(j.is_object(), kWhere, context << "must be an object, got " << j.type_name());
  Component c;
  c.name = text(j, "name", context);
  SUBSET_CHECK(!c.name.empty(), kWhere, context << "'name' is empty");
  c.joules = non_negative(j, "joules", context);
  c.static_joules = non_negative(j, "static_joules", context);
  SUBSET_CHECK(c.static_joules <= c.joules || close(c.static_joules, c.joules), kWhere,
               context << "'static_joules' " << c.static_joules << " exceeds 'joules' " << c.joules);
  c.source = text(j, "source", context);
  SUBSET_CHECK(c.source == "measured" || c.source == "estimated", kWhere,
               context << "'source' must be \"measured\" or \"estimated\", got \"" << c.source << "\"");
  c.method = text(j, "method", context);
  return c;
}

void check_total(const nlohmann::json& j, const std::string& name, double recomputed) {
  const double recorded = number(j, name);
  SUBSET_CHECK(close(recorded, recomputed), kWhere,
               "'" << name << "' is " << recorded << " but the components give " << recomputed);
}

}  // namespace

double EnergyReport::device_joules() const {
  double s = 0;
  for (const auto& c : components) s += c.joules;
  return s;
}

double EnergyReport::static_joules() const {
  double s = 0;
  for (const auto& c : components) s += c.static_joules;
  return s;
}

double EnergyReport::dynamic_joules() const { return device_joules() - static_joules(); }
double EnergyReport::kwh() const { return device_joules() * accounting.pue / kJoulesPerKwh; }
double EnergyReport::gco2e() const { return kwh() * accounting.carbon_intensity; }

EnergyReport add_reports(const EnergyReport& a, const EnergyReport& b) {
  EnergyReport r = a;
  r.seconds += b.seconds;
  r.cpu_seconds += b.cpu_seconds;
  for (const auto& cb : b.components) {
    auto it = std::find_if(r.components.begin(), r.components.end(), [&](const Component& c) { return c.name == cb.name; });
    if (it == r.components.end()) {
      r.components.push_back(cb);
      continue;
    }
    it->joules += cb.joules;
    it->static_joules += cb.static_joules;
    // A sum with an estimated part is itself an estimate.
    if (it->source != cb.source) it->source = "estimated";
    if (it->method != cb.method) it->method += " + " + cb.method;
  }
  for (const auto& n : b.notes)
    if (std::find(r.notes.begin(), r.notes.end(), n) == r.notes.end()) r.notes.push_back(n);
  return r;
}

EnergyReport reprice(EnergyReport report, const Accounting& accounting) {
  report.accounting = accounting;
  return report;
}

nlohmann::json to_json(const EnergyReport& report) {
  nlohmann::json components = nlohmann::json::array();
  for (const auto& c : report.components)
    components.push_back({{"name", c.name},
                          {"joules", c.joules},
                          {"static_joules", c.static_joules},
                          {"source", c.source},
                          {"method", c.method}});
  return {{"seconds", report.seconds},
          {"cpu_seconds", report.cpu_seconds},
          {"joules", report.device_joules()},
          {"static_joules", report.static_joules()},
          {"dynamic_joules", report.dynamic_joules()},
          {"kwh", report.kwh()},
          {"gco2e", report.gco2e()},
          {"pue", report.accounting.pue},
          {"pue_source", report.accounting.pue_source},
          {"carbon_intensity", report.accounting.carbon_intensity},
          {"carbon_source", report.accounting.carbon_source},
          {"components", components},
          {"notes", report.notes}};
}

EnergyReport report_from_json(const nlohmann::json& j) {
  SUBSET_CHECK(j.is_object(), kWhere, "must be an object, got " << j.type_name());
  EnergyReport r;
  r.seconds = non_negative(j, "seconds");
  r.cpu_seconds = non_negative(j, "cpu_seconds");
  r.accounting.pue = number(j, "pue");
  SUBSET_CHECK(r.accounting.pue >= 1, kWhere, "'pue' must be >= 1, got " << r.accounting.pue);
  r.accounting.pue_source = text(j, "pue_source");
  r.accounting.carbon_intensity = non_negative(j, "carbon_intensity");
  r.accounting.carbon_source = text(j, "carbon_source");
  const auto& components = array(j, "components");
  for (size_t i = 0; i < components.size(); ++i) r.components.push_back(component_from_json(components[i], i));
  const auto& notes = array(j, "notes");
  for (size_t i = 0; i < notes.size(); ++i) {
    SUBSET_CHECK(notes[i].is_string(), kWhere, "notes[" << i << "] must be a string, got " << notes[i].type_name());
    r.notes.push_back(notes[i].get<std::string>());
  }
  // The derived figures are recomputed, but a recorded file whose totals disagree with its parts
  // is refused rather than silently "corrected".
  check_total(j, "joules", r.device_joules());
  check_total(j, "static_joules", r.static_joules());
  check_total(j, "dynamic_joules", r.dynamic_joules());
  check_total(j, "kwh", r.kwh());
  check_total(j, "gco2e", r.gco2e());
  return r;
}

std::string format_report(const EnergyReport& report) {
  std::ostringstream os;
  os << "energy: " << fmt("%.6g", report.kwh()) << " kWh, " << fmt("%.4g", report.gco2e()) << " gCO2e ("
     << fmt("%.4g", report.device_joules()) << " J at the devices x PUE " << fmt("%.3g", report.accounting.pue) << "; "
     << fmt("%.4g", report.accounting.carbon_intensity) << " gCO2e/kWh: " << report.accounting.carbon_source << ")\n";
  os << "  " << fmt("%.3f", report.seconds) << " s wall, " << fmt("%.3f", report.cpu_seconds) << " s CPU; static "
     << fmt("%.4g", report.static_joules()) << " J, dynamic " << fmt("%.4g", report.dynamic_joules()) << " J\n";
  for (const auto& c : report.components)
    os << "  " << c.name << ": " << fmt("%.4g", c.joules) << " J (static " << fmt("%.4g", c.static_joules) << " J), "
       << c.source << ": " << c.method << "\n";
  for (const auto& n : report.notes) os << "  note: " << n << "\n";
  return os.str();
}

}  // namespace subset::energy
