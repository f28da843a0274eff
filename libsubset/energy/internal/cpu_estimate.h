#pragma once
// The estimate used where nothing is measured. CPU: a linear power model in the spirit of
// CodeCarbon's P = TDP x (0.1 + 0.9 x load), applied per logical CPU:
//   static  = 0.1 x W x cpus_held x wall_seconds   (the CPUs the run holds, busy or not)
//   dynamic = 0.9 x W x cpu_seconds                (the CPU time actually spent)
// with W the watts of one busy logical CPU: --cpu-watts, else TDP / threads of a known model, else
// CodeCarbon's default for unknown CPUs (4 W per thread). Memory: CodeCarbon v2's 3 W per 8 GB
// (0.375 W per GiB) of peak resident memory, held for the whole wall time, hence all static.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/report.h"

namespace subset::energy::internal {

struct CpuModelPower {
  const char* model;  // as /proc/cpuinfo names it: "EPYC 7763", "Xeon(R) Platinum 8380"
  double tdp_watts;
  int threads;        // logical CPUs of one package
  const char* source;
};

// Known server CPUs, each with the vendor specification its figures come from.
const std::vector<CpuModelPower>& cpu_power_table();

// The table entry whose model appears in `model_name` as a whole word (a trailing "P", AMD's
// single-socket variant with identical TDP and thread count, is accepted); nullptr if none.
const CpuModelPower* find_cpu_model(const std::string& model_name);

// The first "model name" of a cpuinfo file; empty if there is none.
std::string read_cpu_model(const std::string& cpuinfo_path = "/proc/cpuinfo");

constexpr double kDefaultWattsPerThread = 4.0;  // CodeCarbon: unknown CPU model
constexpr double kWattsPerGiB = 3.0 / 8.0;     // CodeCarbon v2: 3 W per 8 GB of RAM
constexpr double kStaticShare = 0.1;           // CodeCarbon: 10% of TDP at zero load

struct CpuWatts {
  double watts = 0;  // per busy logical CPU
  std::string why;   // where the figure comes from, for the method text
};

CpuWatts cpu_watts(std::optional<double> forced, const std::string& model_name);

Component estimate_cpu(double cpu_seconds, double wall_seconds, int cpus_held, const CpuWatts& watts);
Component estimate_memory(int64_t peak_rss_bytes, double wall_seconds);

}  // namespace subset::energy::internal
