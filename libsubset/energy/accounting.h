#pragma once
// PUE and carbon intensity: the shipped defaults and region table, and the user's overrides.
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/report.h"

namespace subset::energy {

struct RegionIntensity {
  std::string code;        // ISO 3166-1 alpha-2, upper case, or "WORLD"
  std::string name;
  double g_per_kwh = 0;
  int year = 0;
  std::string source;
};

// The shipped table (sorted by code), with WORLD as the default when no region is given.
const std::vector<RegionIntensity>& region_table();
double default_pue();
std::string default_pue_source();

struct AccountingChoice {
  std::optional<std::string> region;            // --region CODE (case-insensitive)
  std::optional<double> carbon_intensity;       // --carbon-intensity G_PER_KWH (>= 0)
  std::optional<double> pue;                    // --pue P (>= 1)
};

// Throws subset::Error: unknown region (names the --region value and how to list codes), a
// negative intensity, a PUE below 1 or not finite, both region and intensity given.
Accounting resolve_accounting(const AccountingChoice& choice);

}  // namespace subset::energy
