// The energy meter's own cost: the CPU time its sampler spends per second of wall time, against a
// fake powercap tree of 4 zones (2 packages, 2 DRAM subzones), with the scope's thread asleep so that
// the process's CPU time is the meter's. Usage: bench_energy_meter [seconds per setting, default 3]
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "libsubset/energy/meter.h"
#include "support/fake_powercap.h"

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/bench-energy-XXXXXX";
  if (!mkdtemp(dir.data())) return 1;
  {
    subset::test::FakePowercap tree(std::filesystem::path(dir) / "powercap");
    tree.add_zone("intel-rapl:0", "package-0", 1000, 262143328850ULL);
    tree.add_zone("intel-rapl:0:0", "dram", 1000, 65712999613ULL);
    tree.add_zone("intel-rapl:1", "package-1", 1000, 262143328850ULL);
    tree.add_zone("intel-rapl:1:0", "dram", 1000, 65712999613ULL);

    std::printf("%-16s %10s %14s %18s %14s\n", "sample_seconds", "wall s", "meter CPU s", "CPU s per wall s",
                "us per sample");
    for (double sample : {0.01, 0.1, 1.0}) {
      subset::energy::MeterOptions o;
      o.powercap_root = tree.root().string();
      o.nvml_library = dir + "/no-nvml.so";
      o.sample_seconds = sample;
      subset::energy::EnergyMeter meter(o);
      meter.start();
      std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
      const auto r = meter.stop();
      const double samples = r.seconds / sample;
      std::printf("%-16g %10.3f %14.6f %17.4f%% %14.1f\n", sample, r.seconds, r.cpu_seconds,
                  100.0 * r.cpu_seconds / r.seconds, 1e6 * r.cpu_seconds / samples);
    }
  }
  std::filesystem::remove_all(dir);
  return 0;
}
