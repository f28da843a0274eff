#pragma once
// Lookups in an energy report for the energy tests: a component by name, a note by a part of its text,
// and a scope that is stopped as soon as it starts.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "libsubset/energy/meter.h"

namespace subset::test {

inline const energy::Component* find_component(const energy::EnergyReport& r, const std::string& name) {
  for (const auto& c : r.components)
    if (c.name == name) return &c;
  return nullptr;
}

// The component named `name`; fails the test when there is none.
inline const energy::Component& require_component(const energy::EnergyReport& r, const std::string& name) {
  const energy::Component* c = find_component(r, name);
  REQUIRE_MESSAGE(c, "no component " << name);
  return *c;
}

inline bool has_note(const energy::EnergyReport& r, const std::string& part) {
  return std::any_of(r.notes.begin(), r.notes.end(), [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

inline energy::EnergyReport empty_scope(const energy::MeterOptions& options) {
  energy::EnergyMeter meter(options);
  meter.start();
  return meter.stop();
}

}  // namespace subset::test
