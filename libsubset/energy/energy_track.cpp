#include <algorithm>
#include <cstdio>

#include "libsubset/energy/internal/source.h"

namespace subset::energy::internal {

void EnergyTrack::add(double seconds, double joules, bool full) {
  joules_ += joules;
  if (!full || seconds <= 0) return;
  const double watts = joules / seconds;
  min_watts_ = full_intervals_ == 0 ? watts : std::min(min_watts_, watts);
  ++full_intervals_;
}

Component EnergyTrack::component(std::string name, std::string method, double wall_seconds) const {
  Component c;
  c.name = std::move(name);
  c.joules = joules_;
  c.source = "measured";
  char buf[192];
  if (full_intervals_ == 0) {
    // No whole interval to take an idle reading from: the scope's own mean power is the best bound.
    c.static_joules = joules_;
    std::snprintf(buf, sizeof buf, "; static = all %.4g J (scope shorter than one sampling period: no idle reading)",
                  joules_);
  } else {
    // The last, partial interval may dip below the lowest whole one; static never exceeds the total.
    c.static_joules = std::min(joules_, min_watts_ * wall_seconds);
    std::snprintf(buf, sizeof buf,
                  "; static = idle %.4g W x %.3f s, idle being the lowest mean power over %d whole "
                  "sampling intervals (an upper bound of true idle)",
                  min_watts_, wall_seconds, full_intervals_);
  }
  c.method = std::move(method) + buf;
  return c;
}

}  // namespace subset::energy::internal
