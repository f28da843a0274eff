#pragma once
#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// Points from each class in proportion to its size (see stratified_allocation), uniformly within
// each class; picks are interleaved so every prefix keeps the proportions.
class StratifiedSelector : public Selector {
 public:
  static ParamSchema params() { return ParamSchema("stratified"); }
  explicit StratifiedSelector(const ParamMap&) {}
  std::string_view name() const override { return "stratified"; }
  Selection select(const SelectionRequest& request, const RunContext& context) const override;
};

}  // namespace subset::select
