#include "libsubset/energy/internal/nvml.h"

#include <dlfcn.h>

#include <optional>

namespace subset::energy::internal {
namespace {

// The NVML ABI as published in nvml.h: nvmlReturn_t is an int enum, nvmlDevice_t an opaque pointer.
using nvmlReturn_t = int;
using nvmlDevice_t = void*;
constexpr nvmlReturn_t NVML_SUCCESS = 0;
constexpr unsigned kNameLength = 96;  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

class Library {
 public:
  using Init = nvmlReturn_t (*)();
  using Shutdown = nvmlReturn_t (*)();
  using GetCount = nvmlReturn_t (*)(unsigned*);
  using GetHandle = nvmlReturn_t (*)(unsigned, nvmlDevice_t*);
  using GetName = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned);
  using GetEnergy = nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*);
  using GetPower = nvmlReturn_t (*)(nvmlDevice_t, unsigned*);
  using ErrorString = const char* (*)(nvmlReturn_t);

  ~Library() {
    if (initialized_) shutdown_();
    if (handle_) dlclose(handle_);
  }

  // nullptr, with `why` filled, when the library cannot be used at all.
  static std::shared_ptr<Library> open(const std::string& path, std::string& why) {
    auto lib = std::shared_ptr<Library>(new Library);
    lib->handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle_) {
      const char* e = dlerror();
      why = path + " not loadable (" + (e ? e : "unknown dlopen error") + ")";
      return nullptr;
    }
    bool ok = lib->bind(lib->init_, "nvmlInit_v2", why) && lib->bind(lib->shutdown_, "nvmlShutdown", why) &&
              lib->bind(lib->count_, "nvmlDeviceGetCount_v2", why) &&
              lib->bind(lib->handle_by_index_, "nvmlDeviceGetHandleByIndex_v2", why) &&
              lib->bind(lib->name_, "nvmlDeviceGetName", why) && lib->bind(lib->power_, "nvmlDeviceGetPowerUsage", why);
    if (!ok) return nullptr;
    // Older drivers lack the energy counter and the error strings; both have fallbacks.
    lib->energy_ = reinterpret_cast<GetEnergy>(dlsym(lib->handle_, "nvmlDeviceGetTotalEnergyConsumption"));
    lib->error_string_ = reinterpret_cast<ErrorString>(dlsym(lib->handle_, "nvmlErrorString"));
    const nvmlReturn_t r = lib->init_();
    if (r != NVML_SUCCESS) {
      why = "nvmlInit_v2 failed: " + lib->error(r);
      return nullptr;
    }
    lib->initialized_ = true;
    return lib;
  }

  std::string error(nvmlReturn_t r) const {
    const char* s = error_string_ ? error_string_(r) : nullptr;
    return (s ? std::string(s) : "NVML error") + " (" + std::to_string(r) + ")";
  }

  GetCount count_ = nullptr;
  GetHandle handle_by_index_ = nullptr;
  GetName name_ = nullptr;
  GetEnergy energy_ = nullptr;
  GetPower power_ = nullptr;

 private:
  Library() = default;

  template <class Fn>
  bool bind(Fn& fn, const char* symbol, std::string& why) {
    fn = reinterpret_cast<Fn>(dlsym(handle_, symbol));
    if (!fn) why = "the NVML library lacks " + std::string(symbol);
    return fn != nullptr;
  }

  void* handle_ = nullptr;
  bool initialized_ = false;
  Init init_ = nullptr;
  Shutdown shutdown_ = nullptr;
  ErrorString error_string_ = nullptr;
};

struct Gpu {
  std::shared_ptr<Library> lib;
  nvmlDevice_t device = nullptr;
  std::string component;  // "gpu-0"
  std::string name;       // the device's own name
};

// The device's energy counter, read at every sample.
class GpuEnergy : public Source {
 public:
  GpuEnergy(Gpu gpu, unsigned long long first_mj) : gpu_(std::move(gpu)), last_mj_(first_mj) {}

  void sample(double seconds, bool full) override {
    unsigned long long now = 0;
    const nvmlReturn_t r = gpu_.lib->energy_(gpu_.device, &now);
    if (r != NVML_SUCCESS || now < last_mj_) {
      last_error_ = r != NVML_SUCCESS ? gpu_.lib->error(r) : "counter went backwards (driver reloaded?)";
      merged_ = true;
      return;
    }
    last_error_.clear();
    track_.add(seconds - last_seconds_, static_cast<double>(now - last_mj_) * 1e-3, full && !merged_);
    merged_ = false;
    last_mj_ = now;
    last_seconds_ = seconds;
  }

  std::optional<Component> finish(double wall_seconds, std::vector<std::string>& notes) override {
    if (!last_error_.empty())
      notes.push_back(gpu_.component + " energy unreadable at the end of the scope (" + last_error_ +
                      "): counted up to the last good reading");
    return track_.component(gpu_.component,
                            "NVML total energy counter (mJ) of '" + gpu_.name + "' (whole device: every process on it counts)",
                            wall_seconds);
  }

 private:
  Gpu gpu_;
  unsigned long long last_mj_;
  double last_seconds_ = 0;
  bool merged_ = false;
  std::string last_error_;
  EnergyTrack track_;
};

// Power samples integrated by the trapezoid rule between consecutive reads.
class GpuPower : public Source {
 public:
  GpuPower(Gpu gpu, unsigned first_mw, std::string why_not_energy)
      : gpu_(std::move(gpu)), last_watts_(first_mw * 1e-3), why_not_energy_(std::move(why_not_energy)) {}

  void sample(double seconds, bool full) override {
    unsigned mw = 0;
    const nvmlReturn_t r = gpu_.lib->power_(gpu_.device, &mw);
    if (r != NVML_SUCCESS) {
      last_error_ = gpu_.lib->error(r);
      merged_ = true;
      return;
    }
    last_error_.clear();
    const double watts = mw * 1e-3;
    const double dt = seconds - last_seconds_;
    track_.add(dt, 0.5 * (last_watts_ + watts) * dt, full && !merged_);
    merged_ = false;
    last_watts_ = watts;
    last_seconds_ = seconds;
    ++samples_;
  }

  std::optional<Component> finish(double wall_seconds, std::vector<std::string>& notes) override {
    if (!last_error_.empty())
      notes.push_back(gpu_.component + " power unreadable at the end of the scope (" + last_error_ +
                      "): integrated up to the last good reading");
    return track_.component(gpu_.component,
                            "NVML power samples (mW) of '" + gpu_.name + "' integrated by the trapezoid rule over " +
                                std::to_string(samples_ + 1) + " readings (no energy counter: " + why_not_energy_ +
                                "; whole device: every process on it counts)",
                            wall_seconds);
  }

 private:
  Gpu gpu_;
  double last_watts_;
  std::string why_not_energy_;
  double last_seconds_ = 0;
  int samples_ = 0;
  bool merged_ = false;
  std::string last_error_;
  EnergyTrack track_;
};

}  // namespace

NvmlDiscovery discover_nvml(const std::string& library_path) {
  NvmlDiscovery d;
  const std::string none = "no NVIDIA GPU measured: ";
  std::string why;
  auto lib = Library::open(library_path, why);
  if (!lib) {
    d.notes.push_back(none + why);
    return d;
  }
  unsigned count = 0;
  nvmlReturn_t r = lib->count_(&count);
  if (r != NVML_SUCCESS) {
    d.notes.push_back(none + "nvmlDeviceGetCount_v2 failed: " + lib->error(r));
    return d;
  }
  if (count == 0) {
    d.notes.push_back(none + "NVML reports no device");
    return d;
  }
  for (unsigned i = 0; i < count; ++i) {
    Gpu gpu{lib, nullptr, "gpu-" + std::to_string(i), {}};
    r = lib->handle_by_index_(i, &gpu.device);
    if (r != NVML_SUCCESS) {
      d.notes.push_back(gpu.component + " not measured: nvmlDeviceGetHandleByIndex_v2 failed: " + lib->error(r));
      continue;
    }
    char name[kNameLength] = {};
    gpu.name = lib->name_(gpu.device, name, kNameLength) == NVML_SUCCESS ? name : "unnamed device";
    std::string why_not_energy = "nvmlDeviceGetTotalEnergyConsumption absent";
    if (lib->energy_) {
      unsigned long long mj = 0;
      r = lib->energy_(gpu.device, &mj);
      if (r == NVML_SUCCESS) {
        d.sources.push_back(std::make_unique<GpuEnergy>(std::move(gpu), mj));
        continue;
      }
      why_not_energy = lib->error(r);
    }
    unsigned mw = 0;
    r = lib->power_(gpu.device, &mw);
    if (r != NVML_SUCCESS) {
      d.notes.push_back(gpu.component + " ('" + gpu.name + "') not measured: no energy counter (" + why_not_energy +
                        ") and no power reading (" + lib->error(r) + ")");
      continue;
    }
    d.sources.push_back(std::make_unique<GpuPower>(std::move(gpu), mw, why_not_energy));
  }
  return d;
}

}  // namespace subset::energy::internal
