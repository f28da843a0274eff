#pragma once
// A device the meter reads: RAPL zones and NVIDIA GPUs. The sampler thread calls sample() every
// sampling period and stop() once more at the end, so a Source is never used by two threads at once.
#include <optional>
#include <string>
#include <vector>

#include "libsubset/energy/report.h"

namespace subset::energy::internal {

class Source {
 public:
  virtual ~Source() = default;
  // Reads the device `seconds` after start(). `full`: the interval since the previous read is a whole
  // sampling period (false for the last, shorter one that stop() closes).
  virtual void sample(double seconds, bool full) = 0;
  // The device's energy over the scope; appends to `notes` what the reader must know (a failed read).
  // nullopt: nothing could be measured, and a note says why.
  virtual std::optional<Component> finish(double wall_seconds, std::vector<std::string>& notes) = 0;
};

// Energy summed over the sampler's intervals, with the lowest power of a whole interval: that power
// x the wall time is the static share of a measured device. The lowest interval mean is an upper
// bound of the true idle power (the device may never have been idle for a whole interval).
class EnergyTrack {
 public:
  void add(double seconds, double joules, bool full);
  double joules() const { return joules_; }
  // A measured component; `method` gains the idle figure used for the static share.
  Component component(std::string name, std::string method, double wall_seconds) const;

 private:
  double joules_ = 0;
  double min_watts_ = 0;
  int full_intervals_ = 0;
};

}  // namespace subset::energy::internal
