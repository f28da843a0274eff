#pragma once
// RAPL energy counters through the Linux powercap interface (/sys/class/powercap). The kernel's
// intel_rapl driver serves Intel and AMD (Zen) processors alike, and names its zones intel-rapl on
// both: top-level zones intel-rapl:N ("package-N", or "psys" on some laptops) and subzones
// intel-rapl:N:M ("core", "uncore", "dram"). Core and uncore are parts of the package figure and are
// never added; psys covers the whole platform (package and DRAM included) and is skipped for the same
// reason. Each zone exposes energy_uj (a counter in microjoules that wraps back to 0 after
// max_energy_range_uj) and max_energy_range_uj.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libsubset/energy/internal/source.h"

namespace subset::energy::internal {

struct RaplDiscovery {
  std::vector<std::unique_ptr<Source>> sources;
  bool package = false;  // every package zone is readable: CPU energy is measured
  bool dram = false;     // every DRAM zone is readable: memory energy is measured
  std::vector<std::string> notes;
};

// Finds and opens the zones under `powercap_root`; what cannot be used is said in `notes`.
RaplDiscovery discover_rapl(const std::string& powercap_root);

// Microjoules between two readings of a counter that counts 0, 1, ..., max_range, 0, ...: a reading
// below the previous one means exactly one wrap, i.e. current + (max_range + 1) - previous. The
// hardware counter behind it wraps at max_range plus one hardware energy unit (15 to 61 uJ), so a
// wrap is off by less than one such unit. Two wraps between readings cannot be told from one: the
// sampler reads far more often than the fastest wrap (minutes at full power for the usual 2^32
// units).
uint64_t counter_delta(uint64_t previous, uint64_t current, uint64_t max_range);

}  // namespace subset::energy::internal
