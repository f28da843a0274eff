#pragma once
// Measures the energy of a scope: RAPL (powercap) and NVML where the machine allows, an estimate
// from CPU time and memory otherwise. Counters are sampled by a background thread so that wrap-around
// is caught and idle power can be told apart; its overhead is well under 1% of wall time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "libsubset/energy/accounting.h"
#include "libsubset/energy/report.h"

namespace subset::energy {

struct MeterOptions {
  std::string powercap_root = "/sys/class/powercap";  // env SUBSET_POWERCAP_ROOT overrides
  std::string nvml_library = "libnvidia-ml.so.1";     // env SUBSET_NVML_LIBRARY overrides
  std::optional<double> cpu_watts;   // --cpu-watts: watts per busy logical CPU, for the estimate
  int cpus = 0;                      // logical CPUs held by the run (static share); 0: current_threads()
  double sample_seconds = 1.0;
  Accounting accounting;             // from resolve_accounting(); left default: resolve_accounting({})

  // Defaults with the environment overrides above applied.
  static MeterOptions from_environment(const Accounting& accounting);
  // The options of a user's choices (--region, --carbon-intensity, --pue and --cpu-watts, or the
  // Python keywords of the same names): resolve_accounting(choice), the environment, and the
  // watts per CPU, which must be a positive number (ParamError naming "cpu-watts").
  static MeterOptions resolve(const AccountingChoice& choice, std::optional<double> cpu_watts);
};

// CPU time and peak memory of a process, e.g. from wait4() for a child.
struct ProcessUsage {
  double cpu_seconds = 0;
  int64_t peak_rss_bytes = 0;
};

class EnergyMeter {
 public:
  explicit EnergyMeter(MeterOptions options);
  ~EnergyMeter();
  EnergyMeter(const EnergyMeter&) = delete;
  EnergyMeter& operator=(const EnergyMeter&) = delete;

  // Snapshots the counters and starts the sampler. Calling start() again restarts the scope.
  void start();
  // Ends the scope for this process (CPU time from getrusage(RUSAGE_SELF) since start()).
  EnergyReport stop();
  // Ends the scope for another process whose usage the caller collected (subset energy -- CMD).
  EnergyReport stop(const ProcessUsage& usage);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Convenience for library workflows: measures fn() in this process.
template <class Fn>
EnergyReport measure(const MeterOptions& options, Fn&& fn) {
  EnergyMeter meter(options);
  meter.start();
  fn();
  return meter.stop();
}

}  // namespace subset::energy
