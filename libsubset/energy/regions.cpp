// The shipped carbon-intensity table. docs/energy.md carries the same rows (a unit test compares
// them) together with the full citations.
//
// Countries: "carbon intensity of electricity generation" by Ember, republished by Our World in
// Data (grapher/carbon-intensity-electricity, lifecycle gCO2e per kWh generated), latest year per
// country as extracted into carbontracker's data/carbon-intensities.csv (lfwa/carbontracker,
// commit efc408e5), rounded to 0.1 g. Rows were kept only for countries present in that file;
// South Korea, Taiwan, Turkey, Russia and Vietnam are absent from it and therefore left out.
// WORLD: Ember's 2023 world average as published by Statista (statistics/943137), the figure
// carbontracker also uses as its default.
#include "libsubset/energy/accounting.h"

namespace subset::energy {
namespace {

const char* const kOwid = "Ember via Our World in Data";

}  // namespace

const std::vector<RegionIntensity>& region_table() {
  static const std::vector<RegionIntensity> table = {
      {"AE", "United Arab Emirates", 561.1, 2022, kOwid},
      {"AR", "Argentina", 354.1, 2023, kOwid},
      {"AT", "Austria", 110.8, 2023, kOwid},
      {"AU", "Australia", 548.7, 2023, kOwid},
      {"BE", "Belgium", 138.1, 2023, kOwid},
      {"BR", "Brazil", 98.3, 2023, kOwid},
      {"CA", "Canada", 170.0, 2023, kOwid},
      {"CH", "Switzerland", 34.8, 2023, kOwid},
      {"CL", "Chile", 291.1, 2023, kOwid},
      {"CN", "China", 582.3, 2023, kOwid},
      {"CZ", "Czechia", 449.7, 2023, kOwid},
      {"DE", "Germany", 381.0, 2023, kOwid},
      {"DK", "Denmark", 151.7, 2023, kOwid},
      {"ES", "Spain", 174.1, 2023, kOwid},
      {"FI", "Finland", 79.2, 2023, kOwid},
      {"FR", "France", 56.0, 2023, kOwid},
      {"GB", "United Kingdom", 237.6, 2023, kOwid},
      {"GR", "Greece", 336.6, 2023, kOwid},
      {"HK", "Hong Kong", 699.5, 2022, kOwid},
      {"ID", "Indonesia", 675.9, 2022, kOwid},
      {"IE", "Ireland", 290.8, 2023, kOwid},
      {"IL", "Israel", 582.9, 2022, kOwid},
      {"IN", "India", 713.4, 2023, kOwid},
      {"IT", "Italy", 330.7, 2023, kOwid},
      {"JP", "Japan", 485.4, 2023, kOwid},
      {"MX", "Mexico", 507.2, 2023, kOwid},
      {"MY", "Malaysia", 605.8, 2022, kOwid},
      {"NL", "Netherlands", 267.6, 2023, kOwid},
      {"NO", "Norway", 30.1, 2023, kOwid},
      {"NZ", "New Zealand", 112.8, 2023, kOwid},
      {"PL", "Poland", 661.9, 2023, kOwid},
      {"PT", "Portugal", 165.6, 2023, kOwid},
      {"SA", "Saudi Arabia", 706.8, 2022, kOwid},
      {"SE", "Sweden", 40.7, 2023, kOwid},
      {"SG", "Singapore", 470.8, 2023, kOwid},
      {"TH", "Thailand", 549.6, 2023, kOwid},
      {"US", "United States", 369.5, 2023, kOwid},
      {"WORLD", "World average", 481.0, 2023, "Ember via Statista"},
      {"ZA", "South Africa", 707.7, 2023, kOwid},
  };
  return table;
}

}  // namespace subset::energy
