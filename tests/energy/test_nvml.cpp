// Tests for the NVML path of libsubset/energy/meter.h against tests/energy/fake_nvml.c (built as
// SUBSET_FAKE_NVML), a library with the real NVML ABI whose readings the test controls: the energy
// counter path, the power-integration path, initialisation failure and a missing library.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <chrono>
#include <string>
#include <thread>

#include "libsubset/energy/meter.h"
#include "support/energy_checks.h"
#include "support/files.h"
#include "support/scoped_env.h"
#include "support/temp_dir.h"

using namespace subset::energy;
using namespace subset::test;

namespace {

MeterOptions nvml_options(const TempDir& dir, const std::string& library = SUBSET_FAKE_NVML) {
  MeterOptions o;
  o.powercap_root = dir.file("no-powercap");
  o.nvml_library = library;
  o.sample_seconds = 0.005;
  o.cpu_watts = 4.0;
  return o;
}

size_t gpu_count(const EnergyReport& r) {
  return static_cast<size_t>(std::count_if(r.components.begin(), r.components.end(),
                                           [](const Component& c) { return c.name.rfind("gpu-", 0) == 0; }));
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

TEST_CASE("nvml: the total energy counter is read per device") {
  TempDir dir;
  const std::string energy = dir.file("energy_mj"), log = dir.file("nvml.log");
  write_bytes(energy, "1000\n");
  ScopedEnv devices("FAKE_NVML_DEVICES", "2"), file("FAKE_NVML_ENERGY_FILE", energy), log_env("FAKE_NVML_LOG", log);
  ScopedEnv no_energy("FAKE_NVML_NO_ENERGY", std::nullopt), fail("FAKE_NVML_INIT_FAIL", std::nullopt);

  EnergyMeter meter(nvml_options(dir));
  meter.start();
  sleep_ms(20);
  write_bytes(energy, "6000\n");  // the fake scales by device: gpu-0 1000 -> 6000 mJ, gpu-1 2000 -> 12000 mJ
  sleep_ms(20);
  const EnergyReport r = meter.stop();

  REQUIRE(gpu_count(r) == 2);
  const Component& g0 = require_component(r, "gpu-0");
  const Component& g1 = require_component(r, "gpu-1");
  CHECK(g0.source == "measured");
  CHECK(g0.joules == doctest::Approx(5.0).epsilon(1e-12));
  CHECK(g1.joules == doctest::Approx(10.0).epsilon(1e-12));
  CHECK(g0.method.find("NVML total energy counter (mJ) of 'Fake GPU 0'") != std::string::npos);
  CHECK(g1.method.find("'Fake GPU 1'") != std::string::npos);
  // The counter stood still for whole intervals: idle 0 W, no static share.
  CHECK(g0.static_joules == 0.0);
  CHECK_FALSE(has_note(r, "no NVIDIA GPU measured"));
  // NVML is initialised for the scope and shut down when it ends.
  CHECK(read_bytes(log) == "init\nshutdown\n");
}

TEST_CASE("nvml: without an energy counter, power samples are integrated") {
  TempDir dir;
  ScopedEnv devices("FAKE_NVML_DEVICES", "2"), no_energy("FAKE_NVML_NO_ENERGY", "1"), power("FAKE_NVML_POWER_MW", "50000");
  ScopedEnv fail("FAKE_NVML_INIT_FAIL", std::nullopt), log_env("FAKE_NVML_LOG", std::nullopt);

  EnergyMeter meter(nvml_options(dir));
  meter.start();
  sleep_ms(30);
  const EnergyReport r = meter.stop();

  const Component& g0 = require_component(r, "gpu-0");
  const Component& g1 = require_component(r, "gpu-1");
  // A constant 50 W (100 W for the second device) integrated over the scope's wall time.
  CHECK(g0.joules == doctest::Approx(50.0 * r.seconds).epsilon(1e-9));
  CHECK(g1.joules == doctest::Approx(100.0 * r.seconds).epsilon(1e-9));
  // Constant power is all idle power: the lowest interval mean is 50 W, x the wall time.
  CHECK(g0.static_joules == doctest::Approx(g0.joules).epsilon(1e-9));
  CHECK(g0.method.find("NVML power samples (mW) of 'Fake GPU 0' integrated by the trapezoid rule") != std::string::npos);
  CHECK(g0.method.find("no energy counter: Not Supported (3)") != std::string::npos);
}

TEST_CASE("nvml: an initialisation failure or no device is a note, not a component") {
  TempDir dir;
  ScopedEnv log_env("FAKE_NVML_LOG", std::nullopt), devices("FAKE_NVML_DEVICES", "0");
  for (bool init_fails : {true, false}) {
    ScopedEnv fail("FAKE_NVML_INIT_FAIL", init_fails ? std::optional<std::string>("1") : std::nullopt);
    const EnergyReport r = empty_scope(nvml_options(dir));
    CHECK(gpu_count(r) == 0);
    CHECK(has_note(r, init_fails ? "no NVIDIA GPU measured: nvmlInit_v2 failed: Driver Not Loaded (9)"
                                 : "no NVIDIA GPU measured: NVML reports no device"));
  }
}

TEST_CASE("nvml: a library that cannot be loaded is a note") {
  TempDir dir;
  const std::string missing = dir.file("libnvidia-ml.so.1");
  const EnergyReport r = empty_scope(nvml_options(dir, missing));
  CHECK(gpu_count(r) == 0);
  CHECK(has_note(r, "no NVIDIA GPU measured: " + missing + " not loadable ("));
  // The estimate still covers the CPU and memory.
  CHECK(find_component(r, "cpu"));
  CHECK(find_component(r, "memory"));
}

TEST_CASE("nvml: SUBSET_NVML_LIBRARY and SUBSET_POWERCAP_ROOT override the defaults") {
  subset::energy::Accounting a;
  a.pue = 1.2;
  {
    ScopedEnv lib("SUBSET_NVML_LIBRARY", std::nullopt), root("SUBSET_POWERCAP_ROOT", std::nullopt);
    const MeterOptions o = MeterOptions::from_environment(a);
    CHECK(o.nvml_library == "libnvidia-ml.so.1");
    CHECK(o.powercap_root == "/sys/class/powercap");
    CHECK(o.accounting.pue == 1.2);
  }
  ScopedEnv lib("SUBSET_NVML_LIBRARY", "/opt/nvml.so"), root("SUBSET_POWERCAP_ROOT", "/tmp/pc");
  const MeterOptions o = MeterOptions::from_environment(a);
  CHECK(o.nvml_library == "/opt/nvml.so");
  CHECK(o.powercap_root == "/tmp/pc");
}
