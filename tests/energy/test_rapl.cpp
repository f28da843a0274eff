// Tests for the RAPL path of libsubset/energy/meter.h against fake powercap trees: which zones count,
// counter wrap-around, unreadable counters and the idle (static) share. The expected joules are the
// counter differences the test itself writes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "libsubset/energy/internal/rapl.h"
#include "libsubset/energy/meter.h"
#include "support/energy_checks.h"
#include "support/fake_powercap.h"
#include "support/temp_dir.h"

using namespace subset::energy;
using namespace subset::test;
using subset::energy::internal::counter_delta;

namespace {

MeterOptions rapl_options(const FakePowercap& tree, double sample_seconds = 0.005) {
  MeterOptions o;
  o.powercap_root = tree.root().string();
  o.nvml_library = "/nonexistent/libnvidia-ml.so.1";
  o.sample_seconds = sample_seconds;
  o.cpu_watts = 4.0;
  o.cpus = 1;
  return o;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// The package-0 component of a scope in which zone intel-rapl:0 is set to each of `values` in turn,
// `ms` apart.
Component package_after(const FakePowercap& tree, const std::vector<uint64_t>& values, int ms,
                        double sample_seconds = 0.005) {
  EnergyMeter meter(rapl_options(tree, sample_seconds));
  meter.start();
  for (uint64_t v : values) {
    tree.set_energy("intel-rapl:0", v);
    sleep_ms(ms);
  }
  const EnergyReport r = meter.stop();
  return require_component(r, "package-0");
}

}  // namespace

TEST_CASE("rapl: counter_delta adds back exactly one wrap") {
  CHECK(counter_delta(3, 5, 10) == 2);
  CHECK(counter_delta(5, 5, 10) == 0);
  // The counter counts 0..10: from 5 it goes 6..10, 0..3, i.e. 5 + 4 = 9 steps.
  CHECK(counter_delta(5, 3, 10) == 9);
  CHECK(counter_delta(10, 0, 10) == 1);
  CHECK(counter_delta(0, 10, 10) == 10);
  const uint64_t max = 262143328850ULL;  // a real max_energy_range_uj
  CHECK(counter_delta(max - 100, 50, max) == 151);
}

TEST_CASE("rapl: package and dram are measured, core and uncore are not added") {
  TempDir dir;
  FakePowercap tree(dir.path() / "powercap");
  tree.add_package(0, 1000000);
  tree.add_zone("intel-rapl:0:0", "core", 500000, FakePowercap::kPackageRange);
  tree.add_zone("intel-rapl:0:1", "uncore", 700000, FakePowercap::kPackageRange);
  tree.add_dram(0, 2, 2000000);

  EnergyMeter meter(rapl_options(tree));
  meter.start();
  sleep_ms(40);
  tree.set_energy("intel-rapl:0", 3500000);   // +2.5 J
  tree.set_energy("intel-rapl:0:0", 9000000);  // would add 8.5 J if counted
  tree.set_energy("intel-rapl:0:1", 9000000);
  tree.set_energy("intel-rapl:0:2", 2750000);  // +0.75 J
  sleep_ms(40);
  const EnergyReport r = meter.stop();

  REQUIRE(r.components.size() == 2);
  const Component& pkg = require_component(r, "package-0");
  const Component& dram = require_component(r, "dram-0");
  CHECK(pkg.joules == doctest::Approx(2.5).epsilon(1e-12));
  CHECK(dram.joules == doctest::Approx(0.75).epsilon(1e-12));
  CHECK(pkg.source == "measured");
  CHECK(pkg.method.find("intel-rapl:0 energy_uj") != std::string::npos);
  CHECK(dram.method.find("intel-rapl:0:2") != std::string::npos);
  // Measured CPU and DRAM: no estimate for either.
  CHECK_FALSE(find_component(r, "cpu"));
  CHECK_FALSE(find_component(r, "memory"));
  CHECK(r.device_joules() == doctest::Approx(3.25).epsilon(1e-12));
  CHECK(has_note(r, "no NVIDIA GPU measured"));
  CHECK(has_note(r, "--cpu-watts not used"));
  // The counters stood still for whole intervals before the jump: the lowest interval power is 0.
  CHECK(pkg.static_joules == 0.0);
  CHECK(dram.static_joules == 0.0);
  CHECK(pkg.method.find("lowest mean power") != std::string::npos);
}

TEST_CASE("rapl: a wrap of energy_uj adds max_energy_range_uj + 1") {
  TempDir dir;
  FakePowercap tree(dir.path() / "powercap");
  tree.add_zone("intel-rapl:0", "package-0", 9000000, 10000000);
  SUBCASE("one wrap") {
    const Component pkg = package_after(tree, {2000000}, 20);
    // 9000000 -> 10000000 is 1000000 uJ, -> 0 one more, -> 2000000: 3000001 uJ.
    CHECK(pkg.joules == doctest::Approx(3.000001).epsilon(1e-12));
    CHECK(pkg.method.find("1 wrap(s) at max_energy_range_uj 10000000") != std::string::npos);
  }
  SUBCASE("several wraps, each seen by the sampler") {
    // Forward distances: 5000001, 4000000, 3000001: more than the counter's range in total, so
    // only a sampler that read in between gets it right.
    const Component pkg = package_after(tree, {4000000, 8000000, 1000000}, 60);
    CHECK(pkg.joules == doctest::Approx(12.000002).epsilon(1e-12));
    CHECK(pkg.method.find("2 wrap(s)") != std::string::npos);
  }
}

TEST_CASE("rapl: an unreadable energy_uj is reported and the CPU is estimated") {
  TempDir dir;
  FakePowercap tree(dir.path() / "powercap");
  tree.add_package(0, 1000);
  const auto counter = tree.zone_dir("intel-rapl:0") / "energy_uj";

  SUBCASE("a counter that cannot be read (a directory in its place: fails even as root)") {
    std::filesystem::remove(counter);
    std::filesystem::create_directory(counter);
    const EnergyReport r = empty_scope(rapl_options(tree));
    CHECK(has_note(r, "RAPL zone intel-rapl:0 (package-0) not readable: Is a directory"));
    CHECK(has_note(r, "CPU energy estimated from CPU time"));
    CHECK_FALSE(find_component(r, "package-0"));
    CHECK(require_component(r, "cpu").source == "estimated");
  }
  SUBCASE("a root-only counter (mode 000)") {
    REQUIRE(chmod(counter.c_str(), 0) == 0);
    // Root reads a mode-000 file, and CI runs as root: there the reading is done by a child that
    // has become `nobody`, in a tree it may traverse, so the Permission denied path runs anyway.
    const auto expectations_hold = [&] {
      const EnergyReport r = empty_scope(rapl_options(tree));
      return has_note(r, "not readable: Permission denied (energy_uj is root-only on many kernels)") &&
             find_component(r, "cpu") != nullptr && find_component(r, "package-0") == nullptr;
    };
    if (geteuid() != 0) {
      CHECK(expectations_hold());
    } else {
      for (auto p = tree.zone_dir("intel-rapl:0"); p.string().size() >= dir.path().string().size(); p = p.parent_path())
        chmod(p.c_str(), 0755);
      const pid_t child = fork();
      REQUIRE(child >= 0);
      if (child == 0) {
        constexpr uid_t kNobody = 65534;
        if (setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(2);
        _exit(expectations_hold() ? 0 : 1);
      }
      int status = 0;
      REQUIRE(waitpid(child, &status, 0) == child);
      REQUIRE(WIFEXITED(status));
      CHECK_MESSAGE(WEXITSTATUS(status) != 2, "could not become nobody to stage the case");
      CHECK(WEXITSTATUS(status) == 0);
    }
  }
}

TEST_CASE("rapl: one unreadable package zone drops all of them; DRAM stands alone") {
  TempDir dir;
  FakePowercap tree(dir.path() / "powercap");
  for (int n : {0, 1}) tree.add_package(n, 1000);
  tree.add_dram(0, 0, 1000);
  std::filesystem::remove(tree.zone_dir("intel-rapl:1") / "energy_uj");

  EnergyMeter meter(rapl_options(tree));
  meter.start();
  tree.set_energy("intel-rapl:0:0", 501000);
  const EnergyReport r = meter.stop();
  // Half the sockets would look like a complete figure: the CPU is estimated instead.
  CHECK_FALSE(find_component(r, "package-0"));
  CHECK(find_component(r, "cpu"));
  CHECK(has_note(r, "intel-rapl:1 (package-1) not readable: No such file or directory"));
  CHECK(require_component(r, "dram-0").joules == doctest::Approx(0.5).epsilon(1e-12));
  CHECK_FALSE(find_component(r, "memory"));
}

TEST_CASE("rapl: psys is not added, and absent or empty trees say why") {
  TempDir dir;
  SUBCASE("psys") {
    FakePowercap tree(dir.path() / "powercap");
    tree.add_zone("intel-rapl:0", "package-0", 0, 1000000000);
    tree.add_zone("intel-rapl:1", "psys", 0, 1000000000);
    EnergyMeter meter(rapl_options(tree));
    meter.start();
    tree.set_energy("intel-rapl:0", 1000000);
    tree.set_energy("intel-rapl:1", 5000000);
    const EnergyReport r = meter.stop();
    REQUIRE(r.components.size() == 2);  // package-0 and the memory estimate
    CHECK(require_component(r, "package-0").joules == doctest::Approx(1.0).epsilon(1e-12));
    CHECK(find_component(r, "memory"));
    CHECK(has_note(r, "intel-rapl:1 (psys) not added"));
  }
  SUBCASE("no powercap directory") {
    MeterOptions o;
    o.powercap_root = (dir.path() / "missing").string();
    o.nvml_library = "/nonexistent/libnvidia-ml.so.1";
    const EnergyReport r = empty_scope(o);
    CHECK(has_note(r, "RAPL not used: " + o.powercap_root + " absent"));
    CHECK(find_component(r, "cpu"));
    CHECK(find_component(r, "memory"));
  }
  SUBCASE("a powercap directory without RAPL zones") {
    std::filesystem::create_directories(dir.path() / "empty");
    MeterOptions o;
    o.powercap_root = (dir.path() / "empty").string();
    o.nvml_library = "/nonexistent/libnvidia-ml.so.1";
    CHECK(has_note(empty_scope(o), "RAPL not used: no intel-rapl zones under"));
  }
}

TEST_CASE("rapl: a scope shorter than one sampling period counts all its energy as static") {
  TempDir dir;
  FakePowercap tree(dir.path() / "powercap");
  tree.add_package(0, 0);
  const auto t0 = std::chrono::steady_clock::now();
  const Component pkg = package_after(tree, {4000000}, 0, 30.0);
  // stop() wakes the sampler at once instead of waiting out its 30 s period.
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 5.0);
  CHECK(pkg.joules == doctest::Approx(4.0).epsilon(1e-12));
  CHECK(pkg.static_joules == pkg.joules);
  CHECK(pkg.method.find("no idle reading") != std::string::npos);
}
