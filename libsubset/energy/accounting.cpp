#include "libsubset/energy/accounting.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"

namespace subset::energy {
namespace {

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string known_codes() {
  std::string codes;
  for (const auto& r : region_table()) codes += (codes.empty() ? "" : ", ") + r.code;
  return codes;
}

std::string describe(const RegionIntensity& r) {
  std::ostringstream os;
  os << "region " << r.code << ": " << r.name << ", " << std::fixed << std::setprecision(1) << r.g_per_kwh << " gCO2e/kWh (" << r.source << ", " << r.year
     << ")";
  return os.str();
}

const RegionIntensity& find_region(const std::string& code) {
  const std::string key = upper(code);
  for (const auto& r : region_table())
    if (r.code == key) return r;
  SUBSET_FAIL_PARAM("region", "unknown region '" << code << "' (known: " << known_codes() << ")");
}

}  // namespace

// Uptime Institute's industry average for 2023 (its Global Data Center Survey), the value
// carbontracker adopted as PUE_2023.
double default_pue() { return 1.58; }

std::string default_pue_source() {
  return "default: 1.58, industry average PUE 2023 (Uptime Institute Global Data Center Survey 2023)";
}

Accounting resolve_accounting(const AccountingChoice& choice) {
  SUBSET_CHECK_PARAM(!(choice.region && choice.carbon_intensity), "region",
               "--region and --carbon-intensity both set the carbon intensity: give only one");
  Accounting a;
  if (choice.pue) {
    const double p = *choice.pue;
    SUBSET_CHECK_PARAM(std::isfinite(p), "pue", "PUE must be a finite number, got " << p);
    SUBSET_CHECK_PARAM(p >= 1, "pue",
                 "PUE must be at least 1 (a facility cannot draw less than its IT equipment), got " << p);
    a.pue = p;
    a.pue_source = "--pue";
  } else {
    a.pue = default_pue();
    a.pue_source = default_pue_source();
  }
  if (choice.carbon_intensity) {
    const double g = *choice.carbon_intensity;
    SUBSET_CHECK_PARAM(std::isfinite(g) && g >= 0, "carbon-intensity",
                 "carbon intensity must be a finite number of gCO2e/kWh >= 0, got " << g);
    a.carbon_intensity = g;
    a.carbon_source = "--carbon-intensity";
  } else {
    const RegionIntensity& r = find_region(choice.region.value_or("WORLD"));
    a.carbon_intensity = r.g_per_kwh;
    a.carbon_source = (choice.region ? "" : "default ") + describe(r);
  }
  return a;
}

}  // namespace subset::energy
