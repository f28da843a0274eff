#include "libsubset/energy/meter.h"

#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/threads.h"
#include "libsubset/energy/accounting.h"
#include "libsubset/energy/internal/cpu_estimate.h"
#include "libsubset/energy/internal/nvml.h"
#include "libsubset/energy/internal/rapl.h"

namespace subset::energy {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

double self_cpu_seconds(int64_t* peak_rss_bytes = nullptr) {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  if (peak_rss_bytes) *peak_rss_bytes = static_cast<int64_t>(u.ru_maxrss) * 1024;  // KiB on Linux
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

}  // namespace

MeterOptions MeterOptions::from_environment(const Accounting& accounting) {
  MeterOptions o;
  o.accounting = accounting;
  if (const char* root = std::getenv("SUBSET_POWERCAP_ROOT"); root && *root) o.powercap_root = root;
  if (const char* lib = std::getenv("SUBSET_NVML_LIBRARY"); lib && *lib) o.nvml_library = lib;
  return o;
}

MeterOptions MeterOptions::resolve(const AccountingChoice& choice, std::optional<double> cpu_watts) {
  MeterOptions o = from_environment(resolve_accounting(choice));
  if (cpu_watts) {
    SUBSET_CHECK_PARAM(std::isfinite(*cpu_watts) && *cpu_watts > 0, "cpu-watts",
                       "watts per CPU must be a positive number, got " << *cpu_watts);
    o.cpu_watts = cpu_watts;
  }
  return o;
}

struct EnergyMeter::State {
  MeterOptions options;
  internal::CpuWatts cpu_watts;

  // One scope, from start() to stop().
  std::vector<std::unique_ptr<internal::Source>> sources;
  std::vector<std::string> notes;
  bool cpu_measured = false;
  bool memory_measured = false;
  Clock::time_point t0;
  double cpu0 = 0;
  bool running = false;

  std::thread sampler;
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;

  void sample_loop() {
    const auto period = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(options.sample_seconds));
    auto next = t0 + period;
    std::unique_lock<std::mutex> lock(mutex);
    while (!wake.wait_until(lock, next, [this] { return stopping; })) {
      // Reading the counters takes microseconds; holding the lock meanwhile only delays stop().
      const double t = seconds_between(t0, Clock::now());
      for (auto& s : sources) s->sample(t, true);
      next += period;
      // After a stall (suspended process, overloaded machine) resume the rhythm instead of catching up.
      if (const auto now = Clock::now(); next < now) next = now + period;
    }
  }

  void halt_sampler() {
    if (!sampler.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    sampler.join();
  }

  EnergyReport finish(double cpu_seconds, int64_t peak_rss_bytes) {
    SUBSET_CHECK(running, "EnergyMeter", "stop() called without start()");
    halt_sampler();
    const double wall = seconds_between(t0, Clock::now());
    for (auto& s : sources) s->sample(wall, false);
    running = false;

    EnergyReport r;
    r.seconds = wall;
    r.cpu_seconds = cpu_seconds;
    r.accounting = options.accounting;
    r.notes = std::move(notes);
    for (auto& s : sources)
      if (auto c = s->finish(wall, r.notes)) r.components.push_back(std::move(*c));
    sources.clear();  // unloads NVML
    const int cpus = options.cpus > 0 ? options.cpus : current_threads();
    if (!cpu_measured) r.components.push_back(internal::estimate_cpu(cpu_seconds, wall, cpus, cpu_watts));
    else if (options.cpu_watts)
      r.notes.push_back("--cpu-watts not used: CPU energy measured by RAPL");
    if (!memory_measured) r.components.push_back(internal::estimate_memory(peak_rss_bytes, wall));
    return r;
  }
};

EnergyMeter::EnergyMeter(MeterOptions options) : state_(std::make_unique<State>()) {
  SUBSET_CHECK(std::isfinite(options.sample_seconds) && options.sample_seconds > 0, "EnergyMeter",
               "sample_seconds must be a positive number, got " << options.sample_seconds);
  SUBSET_CHECK(options.cpus >= 0, "EnergyMeter", "cpus must be >= 0 (0: the current thread count), got " << options.cpus);
  if (options.cpu_watts)
    SUBSET_CHECK_PARAM(std::isfinite(*options.cpu_watts) && *options.cpu_watts > 0, "cpu-watts",
                 "watts per CPU must be a positive number, got " << *options.cpu_watts);
  // A default-constructed Accounting has no PUE: price it with the shipped defaults.
  if (options.accounting.pue == 0 && options.accounting.pue_source.empty()) options.accounting = resolve_accounting({});
  SUBSET_CHECK_PARAM(std::isfinite(options.accounting.pue) && options.accounting.pue >= 1, "pue",
               "PUE must be at least 1, got " << options.accounting.pue);
  state_->cpu_watts = internal::cpu_watts(options.cpu_watts, internal::read_cpu_model());
  state_->options = std::move(options);
}

EnergyMeter::~EnergyMeter() { state_->halt_sampler(); }

void EnergyMeter::start() {
  State& s = *state_;
  s.halt_sampler();
  s.sources.clear();
  s.notes.clear();

  // Each source takes its first reading when found; RAPL goes last so that its readings sit next to
  // t0 (initialising NVML can take much longer than listing the powercap zones).
  auto nvml = internal::discover_nvml(s.options.nvml_library);
  auto rapl = internal::discover_rapl(s.options.powercap_root);
  s.cpu_measured = rapl.package;
  s.memory_measured = rapl.dram;
  for (auto* found : {&rapl.sources, &nvml.sources})
    for (auto& src : *found) s.sources.push_back(std::move(src));
  s.notes = std::move(rapl.notes);
  if (!s.cpu_measured) s.notes.push_back("CPU energy estimated from CPU time: no usable RAPL package counter");
  if (!s.memory_measured) s.notes.push_back("memory energy estimated from peak RSS: no usable RAPL DRAM counter");
  s.notes.insert(s.notes.end(), nvml.notes.begin(), nvml.notes.end());

  s.stopping = false;
  s.running = true;
  s.cpu0 = self_cpu_seconds();
  s.t0 = Clock::now();
  s.sampler = std::thread([&s] { s.sample_loop(); });
}

EnergyReport EnergyMeter::stop() {
  int64_t peak = 0;
  const double cpu = self_cpu_seconds(&peak) - state_->cpu0;
  return state_->finish(cpu, peak);
}

EnergyReport EnergyMeter::stop(const ProcessUsage& usage) {
  SUBSET_CHECK(std::isfinite(usage.cpu_seconds) && usage.cpu_seconds >= 0, "EnergyMeter",
               "process CPU time must be >= 0, got " << usage.cpu_seconds);
  SUBSET_CHECK(usage.peak_rss_bytes >= 0, "EnergyMeter", "peak RSS must be >= 0, got " << usage.peak_rss_bytes);
  return state_->finish(usage.cpu_seconds, usage.peak_rss_bytes);
}

}  // namespace subset::energy
