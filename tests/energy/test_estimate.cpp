// Tests for the estimate of libsubset/energy/meter.h (CPU time and peak memory where nothing is
// measured), the CPU model table, and the meter's option checks. Expected joules are computed here
// from the documented model: cpu = 0.1 x W x cpus x wall + 0.9 x W x cpu_seconds, memory = 0.375
// W/GiB x peak GiB x wall.
#include <doctest/doctest.h>

#include <time.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <string>
#include <thread>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/energy/internal/cpu_estimate.h"
#include "libsubset/energy/meter.h"
#include "support/energy_checks.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/temp_dir.h"

using namespace subset::energy;
using namespace subset::test;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

MeterOptions estimate_options(const TempDir& dir, double cpu_watts, int cpus) {
  MeterOptions o;
  o.powercap_root = dir.file("no-powercap");
  o.nvml_library = dir.file("no-nvml.so");
  o.sample_seconds = 0.01;
  o.cpu_watts = cpu_watts;
  o.cpus = cpus;
  o.accounting.pue = 1.5;
  o.accounting.pue_source = "test";
  o.accounting.carbon_intensity = 400;
  o.accounting.carbon_source = "test";
  return o;
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

EnergyReport measure_sleep(const MeterOptions& o, int ms, const ProcessUsage& usage) {
  EnergyMeter meter(o);
  meter.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  return meter.stop(usage);
}

}  // namespace

TEST_CASE("energy estimate: CPU and memory from --cpu-watts, hand-computed") {
  TempDir dir;
  const ProcessUsage usage{2.0, static_cast<int64_t>(2 * kGiB)};
  const EnergyReport r = measure_sleep(estimate_options(dir, 10.0, 3), 20, usage);
  const double t = r.seconds;
  REQUIRE(t > 0);
  CHECK(r.cpu_seconds == 2.0);
  REQUIRE(r.components.size() == 2);

  const Component& cpu = require_component(r, "cpu");
  CHECK(cpu.source == "estimated");
  CHECK(cpu.static_joules == doctest::Approx(0.1 * 10.0 * 3 * t).epsilon(1e-12));
  CHECK(cpu.joules == doctest::Approx(0.1 * 10.0 * 3 * t + 0.9 * 10.0 * 2.0).epsilon(1e-12));
  CHECK(cpu.method.find("CPU time 2.000 s x 10.000 W/CPU") != std::string::npos);
  CHECK(cpu.method.find("3 CPUs held") != std::string::npos);
  CHECK(cpu.method.find("(--cpu-watts)") != std::string::npos);

  const Component& mem = require_component(r, "memory");
  CHECK(mem.source == "estimated");
  CHECK(mem.joules == doctest::Approx(0.375 * 2.0 * t).epsilon(1e-12));
  CHECK(mem.static_joules == mem.joules);
  CHECK(mem.method.find("peak RSS 2.000 GiB x 0.375 W/GiB") != std::string::npos);

  const double device = 0.1 * 10.0 * 3 * t + 18.0 + 0.75 * t;
  CHECK(r.device_joules() == doctest::Approx(device).epsilon(1e-12));
  CHECK(r.dynamic_joules() == doctest::Approx(18.0).epsilon(1e-9));
  CHECK(r.kwh() == doctest::Approx(device * 1.5 / 3.6e6).epsilon(1e-12));
  CHECK(r.gco2e() == doctest::Approx(device * 1.5 / 3.6e6 * 400).epsilon(1e-12));
}

TEST_CASE("energy estimate: the static share grows with wall time while CPU time stays") {
  TempDir dir;
  const MeterOptions o = estimate_options(dir, 4.0, 2);
  const ProcessUsage usage{1.0, 0};
  const EnergyReport shorter = measure_sleep(o, 20, usage);
  const EnergyReport longer = measure_sleep(o, 150, usage);
  REQUIRE(longer.seconds > shorter.seconds + 0.1);
  for (const EnergyReport* r : {&shorter, &longer}) {
    const Component& cpu = require_component(*r, "cpu");
    CHECK(cpu.static_joules == doctest::Approx(0.1 * 4.0 * 2 * r->seconds).epsilon(1e-12));
    CHECK(cpu.joules - cpu.static_joules == doctest::Approx(0.9 * 4.0 * 1.0).epsilon(1e-12));
    CHECK(require_component(*r, "memory").joules == 0.0);
  }
  CHECK(longer.static_joules() > shorter.static_joules());
  CHECK(longer.dynamic_joules() == doctest::Approx(shorter.dynamic_joules()).epsilon(1e-12));
}

TEST_CASE("energy estimate: stop() takes this process's CPU time and peak RSS") {
  TempDir dir;
  MeterOptions o = estimate_options(dir, 4.0, 0);
  EnergyMeter meter(o);
  meter.start();
  // Spin until this thread alone has used 50 ms of CPU in the scope, however busy the machine is.
  const double spun_from = thread_cpu_seconds();
  volatile double sink = 0;
  while (thread_cpu_seconds() - spun_from < 0.05) sink = sink + std::sqrt(static_cast<double>(sink) + 1.0);
  const EnergyReport r = meter.stop();
  // getrusage and the thread clock round differently: a millisecond of slack.
  CHECK(r.cpu_seconds >= 0.049);
  CHECK(r.cpu_seconds <= r.seconds * subset::hardware_threads() + 0.05);
  const Component& cpu = require_component(r, "cpu");
  // cpus = 0: the run holds current_threads() CPUs.
  CHECK(cpu.static_joules == doctest::Approx(0.1 * 4.0 * subset::current_threads() * r.seconds).epsilon(1e-12));
  CHECK(cpu.joules - cpu.static_joules == doctest::Approx(0.9 * 4.0 * r.cpu_seconds).epsilon(1e-9));
  // This process has mapped its code and heap: some resident memory.
  CHECK(require_component(r, "memory").joules > 0.0);
}

TEST_CASE("energy estimate: CPU models are matched as whole words") {
  const auto* m = internal::find_cpu_model("AMD EPYC 7763 64-Core Processor");
  REQUIRE(m);
  CHECK(std::string(m->model) == "EPYC 7763");
  CHECK(m->tdp_watts == 280);
  CHECK(m->threads == 128);
  // AMD's single-socket P variant shares the figures.
  m = internal::find_cpu_model("AMD EPYC 7713P 64-Core Processor");
  REQUIRE(m);
  CHECK(std::string(m->model) == "EPYC 7713");
  m = internal::find_cpu_model("Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz");
  REQUIRE(m);
  CHECK(m->threads == 80);
  // Other parts whose names contain a known one are not that one.
  CHECK(internal::find_cpu_model("Intel(R) Xeon(R) Platinum 8380H CPU @ 2.90GHz") == nullptr);
  CHECK(internal::find_cpu_model("AMD EPYC 77630") == nullptr);
  CHECK(internal::find_cpu_model("AMD EPYC") == nullptr);
  CHECK(internal::find_cpu_model("") == nullptr);

  for (const auto& e : internal::cpu_power_table()) {
    CHECK(e.tdp_watts > 0);
    CHECK(e.threads > 0);
    CHECK(std::string(e.source).size() > 0);
    CHECK(internal::find_cpu_model(std::string("CPU ") + e.model + " Processor") == &e);
  }
}

TEST_CASE("energy estimate: watts per CPU from the option, the table, or the default") {
  const auto forced = internal::cpu_watts(5.5, "AMD EPYC 7763 64-Core Processor");
  CHECK(forced.watts == 5.5);
  CHECK(forced.why == "--cpu-watts");
  const auto known = internal::cpu_watts(std::nullopt, "AMD EPYC 7763 64-Core Processor");
  CHECK(known.watts == doctest::Approx(280.0 / 128.0).epsilon(1e-15));
  CHECK(known.why.find("TDP 280 W / 128 threads") != std::string::npos);
  const auto unknown = internal::cpu_watts(std::nullopt, "AMD EPYC");
  CHECK(unknown.watts == 4.0);
  CHECK(unknown.why == "unknown CPU 'AMD EPYC': CodeCarbon's default of 4 W per thread");
}

TEST_CASE("energy estimate: the CPU model comes from the first model name of cpuinfo") {
  TempDir dir;
  write_bytes(dir.file("cpuinfo"),
              "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 1\nmodel name\t: AMD EPYC 7543 32-Core Processor\n"
              "\nprocessor\t: 1\nmodel name\t: something else\n");
  CHECK(internal::read_cpu_model(dir.file("cpuinfo")) == "AMD EPYC 7543 32-Core Processor");
  write_bytes(dir.file("empty"), "processor\t: 0\n");
  CHECK(internal::read_cpu_model(dir.file("empty")).empty());
  CHECK(internal::read_cpu_model(dir.file("missing")).empty());
}

TEST_CASE("energy meter: options are checked before anything runs") {
  TempDir dir;
  auto with = [&](auto change) {
    MeterOptions o = estimate_options(dir, 4.0, 1);
    change(o);
    return error_of([&] { EnergyMeter meter(o); });
  };
  for (double w : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    const auto e = with([&](MeterOptions& o) { o.cpu_watts = w; });
    CHECK(e.where() == "cpu-watts");
    CHECK(e.message().find("watts per CPU must be a positive number") != std::string::npos);
  }
  CHECK(with([](MeterOptions& o) { o.sample_seconds = 0; }).message().find("sample_seconds") != std::string::npos);
  CHECK(with([](MeterOptions& o) { o.cpus = -2; }).message().find("cpus must be >= 0") != std::string::npos);
  CHECK(with([](MeterOptions& o) { o.accounting.pue = 0.5; }).where() == "pue");

  MeterOptions o = estimate_options(dir, 4.0, 1);
  EnergyMeter meter(o);
  CHECK(error_of([&] { meter.stop(); }).message() == "stop() called without start()");
  meter.start();
  CHECK(error_of([&] { meter.stop(ProcessUsage{-1.0, 0}); }).message().find("CPU time must be >= 0") != std::string::npos);
  meter.stop(ProcessUsage{0.0, 0});
}

TEST_CASE("energy meter: default accounting, restart and measure()") {
  TempDir dir;
  MeterOptions o = estimate_options(dir, 4.0, 1);
  o.accounting = Accounting{};
  EnergyMeter meter(o);
  meter.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  meter.start();  // restarts the scope: the 200 ms above are not in it
  const EnergyReport r = meter.stop(ProcessUsage{0.5, 0});
  CHECK(r.seconds < 0.2);
  CHECK(r.accounting.pue == 1.58);
  CHECK(r.accounting.carbon_intensity == 481.0);
  CHECK(r.accounting.carbon_source.find("WORLD") != std::string::npos);

  int calls = 0;
  const EnergyReport m = subset::energy::measure(estimate_options(dir, 4.0, 1), [&] { ++calls; });
  CHECK(calls == 1);
  CHECK(require_component(m, "cpu").source == "estimated");
}
