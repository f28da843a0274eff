#pragma once
#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// The same number of points from every class (see balanced_allocation), uniformly within each
// class; picks are interleaved across classes so every prefix stays balanced.
class BalancedSelector : public Selector {
 public:
  static ParamSchema params() { return ParamSchema("balanced"); }
  explicit BalancedSelector(const ParamMap&) {}
  std::string_view name() const override { return "balanced"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;
};

}  // namespace subset::select
