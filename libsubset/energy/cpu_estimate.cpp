#include "libsubset/energy/internal/cpu_estimate.h"

#include <cctype>
#include <cstdio>
#include <fstream>

namespace subset::energy::internal {
namespace {

// AMD: "Default TDP" and "# of Threads" of AMD's server processor specifications
// (amd.com/en/products/specifications/server-processor.html), as exported in CodeCarbon's
// data/hardware/AMD_Server_Processor_Specifications.csv. Intel: "TDP" and "Total Threads" of the
// Intel ARK specification page of each SKU (cores and TDP also in CodeCarbon's intel_cpu_ark_dataset.csv).
const char* const kAmd = "AMD server processor specifications";

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string fixed(double v, int decimals) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

}  // namespace

const std::vector<CpuModelPower>& cpu_power_table() {
  static const std::vector<CpuModelPower> table = {
      {"EPYC 9654", 360, 192, kAmd},
      {"EPYC 9554", 360, 128, kAmd},
      {"EPYC 9454", 290, 96, kAmd},
      {"EPYC 9354", 280, 64, kAmd},
      {"EPYC 7763", 280, 128, kAmd},
      {"EPYC 7713", 225, 128, kAmd},
      {"EPYC 7543", 225, 64, kAmd},
      {"EPYC 7413", 180, 48, kAmd},
      {"Platinum 8380", 270, 80, "Intel ARK, SKU 212287"},
      {"Platinum 8368", 270, 76, "Intel ARK, SKU 212455"},
      {"Platinum 8362", 265, 64, "Intel ARK, SKU 217216"},
      {"Gold 6342", 230, 48, "Intel ARK, SKU 215276"},
  };
  return table;
}

const CpuModelPower* find_cpu_model(const std::string& model_name) {
  for (const auto& entry : cpu_power_table()) {
    const std::string key = entry.model;
    for (size_t at = model_name.find(key); at != std::string::npos; at = model_name.find(key, at + 1)) {
      if (at > 0 && word_char(model_name[at - 1])) continue;
      size_t end = at + key.size();
      if (end < model_name.size() && model_name[end] == 'P') ++end;
      if (end < model_name.size() && word_char(model_name[end])) continue;
      return &entry;
    }
  }
  return nullptr;
}

std::string read_cpu_model(const std::string& cpuinfo_path) {
  std::ifstream in(cpuinfo_path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    const size_t first = v.find_first_not_of(" \t");
    const size_t last = v.find_last_not_of(" \t\r");
    return first == std::string::npos ? std::string() : v.substr(first, last - first + 1);
  }
  return {};
}

CpuWatts cpu_watts(std::optional<double> forced, const std::string& model_name) {
  if (forced) return {*forced, "--cpu-watts"};
  if (const CpuModelPower* m = find_cpu_model(model_name))
    return {m->tdp_watts / m->threads, std::string(m->model) + ": TDP " + fixed(m->tdp_watts, 0) + " W / " +
                                           std::to_string(m->threads) + " threads (" + m->source + ")"};
  const std::string shown = model_name.empty() ? "no model name in /proc/cpuinfo" : "'" + model_name + "'";
  return {kDefaultWattsPerThread, "unknown CPU " + shown + ": CodeCarbon's default of " +
                                      fixed(kDefaultWattsPerThread, 0) + " W per thread"};
}

Component estimate_cpu(double cpu_seconds, double wall_seconds, int cpus_held, const CpuWatts& watts) {
  Component c;
  c.name = "cpu";
  c.source = "estimated";
  c.static_joules = kStaticShare * watts.watts * cpus_held * wall_seconds;
  c.joules = c.static_joules + (1 - kStaticShare) * watts.watts * cpu_seconds;
  c.method = "CPU time " + fixed(cpu_seconds, 3) + " s x " + fixed(watts.watts, 3) + " W/CPU x " +
             fixed(1 - kStaticShare, 1) + ", plus idle " + fixed(kStaticShare * 100, 0) + "% x " +
             fixed(watts.watts, 3) + " W x " + std::to_string(cpus_held) + " CPUs held x " +
             fixed(wall_seconds, 3) + " s wall (" + watts.why + ")";
  return c;
}

Component estimate_memory(int64_t peak_rss_bytes, double wall_seconds) {
  const double gib = static_cast<double>(peak_rss_bytes) / (1024.0 * 1024.0 * 1024.0);
  Component c;
  c.name = "memory";
  c.source = "estimated";
  c.joules = c.static_joules = kWattsPerGiB * gib * wall_seconds;
  c.method = "peak RSS " + fixed(gib, 3) + " GiB x " + fixed(kWattsPerGiB, 3) + " W/GiB (CodeCarbon v2: 3 W per 8 GB) x " +
             fixed(wall_seconds, 3) + " s wall, all static";
  return c;
}

}  // namespace subset::energy::internal
