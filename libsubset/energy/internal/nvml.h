#pragma once
// NVIDIA GPUs through NVML, loaded at run time with dlopen so that libsubset has no build or link
// dependency on the driver. Per device: the total-energy counter (nvmlDeviceGetTotalEnergyConsumption,
// millijoules since the driver loaded, Volta and later) when the device supports it, otherwise
// power samples (nvmlDeviceGetPowerUsage, milliwatts) integrated by the trapezoid rule.
#include <memory>
#include <string>
#include <vector>

#include "libsubset/energy/internal/source.h"

namespace subset::energy::internal {

struct NvmlDiscovery {
  std::vector<std::unique_ptr<Source>> sources;  // each keeps the library loaded while it lives
  std::vector<std::string> notes;
};

NvmlDiscovery discover_nvml(const std::string& library_path);

}  // namespace subset::energy::internal
