#pragma once
// The explicit table of selection methods: name, one-line summary, what each needs, and its
// parameters, declared once (ParamSchema) for the CLI, --help, docs and manifests.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libsubset/core/params.h"
#include "libsubset/select/selector.h"

namespace subset::select {

struct MethodSpec {
  std::string name;
  std::string summary;
  bool needs_features = false;
  bool needs_labels = false;
  bool has_centroids = false;  // Selection::centroids is filled (subset select --centroids-out)
  bool needs_scores = false;   // scores with a proxy model: needs the libtorch provider (scores.h)
  ParamSchema params;
  std::function<std::unique_ptr<Selector>(const ParamMap&)> create;
  // Bytes the method needs besides the features themselves, for n points of dim values and `picks`
  // points chosen (already selected included); unset: nothing worth counting.
  std::function<double(int64_t n, int64_t dim, int64_t picks)> memory_in_memory;
  // Set for the methods that also select from features left on disk (SelectionRequest::on_disk),
  // with the same result as in memory: the bytes they then hold (per-point state), besides one
  // block of rows. Unset: the method needs its features in memory.
  std::function<double(int64_t n, int64_t dim, int64_t picks)> memory_on_disk;
  bool streams() const { return static_cast<bool>(memory_on_disk); }
  // The on-disk path also runs on several ranks (RowBlocks::share_among), each rank holding the
  // state of its own rows, with the single-process result.
  bool distributes = false;
  // Runs on several ranks from each rank's share of the rows in memory (SelectionRequest::share):
  // the importance methods, whose proxy trains data-parallel.
  bool trains_on_shares = false;
};

const std::vector<MethodSpec>& methods();
// Throws Error listing the known methods for an unknown name.
const MethodSpec& method(std::string_view name);
// Validates `params` against the method's schema (unknown names, types, ranges) and builds it.
std::unique_ptr<Selector> make_selector(std::string_view name, const ParamMap& params);

// Checks a request before any work: budget >= 1, budget + already_selected <= n, already_selected
// unique and in range, features (n x dim, dim >= 1) and labels (n, >= 0) present when needed.
// Features may be on disk (request.on_disk) for a method that streams, or when `per_class`, or
// shared over ranks (request.share_features) for a method that trains on shares.
void validate_request(const MethodSpec& spec, const SelectionRequest& request, bool per_class = false);

// Labels: one per point, none negative, and no empty class among 0..num_classes-1 (or up to the
// largest label).
void check_classes(const SelectionRequest& request);

// Runs `selector` within each class with a balanced split of the budget (see allocation.h), and
// merges the per-class picks class by class. Needs labels. A selector that scores points
// (Selector::score) scores them once over the whole request first, and each class gets its slice.
Selection select_per_class(const Selector& selector, const SelectionRequest& request, const RunContext& context);

}  // namespace subset::select
