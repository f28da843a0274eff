#pragma once
#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// Uniform sampling without replacement among the points not already selected.
class RandomSelector : public Selector {
 public:
  static ParamSchema params() { return ParamSchema("random"); }
  explicit RandomSelector(const ParamMap&) {}
  std::string_view name() const override { return "random"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;
};

}  // namespace subset::select
