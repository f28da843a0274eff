#pragma once
// Runs a selection method with its default parameters on a point set, its features in memory or
// on disk (a RowBlocks over them): what the streamed methods' tests compare.
#include <cstdint>
#include <string>
#include <vector>

#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "support/point_sets.h"

namespace subset::test {

inline select::Selection select_rows(const std::string& name, const Data& d, int64_t budget,
                                     const std::vector<int64_t>& already, const select::RowBlocks* on_disk,
                                     const select::RunContext& context) {
  select::SelectionRequest r;
  r.n = d.n;
  r.dim = d.dim;
  if (on_disk) r.on_disk = on_disk;
  else r.features = d.x.data();
  r.budget = budget;
  r.already_selected = already;
  const select::MethodSpec& spec = select::method(name);
  select::validate_request(spec, r);
  return spec.create(spec.params.resolve({}))->select(r, context);
}

}  // namespace subset::test
