#include "libsubset/select/random.h"

#include <algorithm>

#include "libsubset/select/sampling.h"

namespace subset::select {

Selection RandomSelector::select(const SelectionRequest& request, const RunContext& context) const {
  std::vector<int64_t> excluded = request.already_selected;
  std::sort(excluded.begin(), excluded.end());
  Rng rng(context.seed);
  Selection out;
  out.indices = sample_without_replacement(request.n - static_cast<int64_t>(excluded.size()), request.budget, rng);
  rank_to_index(out.indices, excluded);
  return out;
}

}  // namespace subset::select
