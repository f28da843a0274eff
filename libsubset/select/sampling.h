#pragma once
// Uniform sampling without replacement over index ranges, with exclusions.
#include <cstdint>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/select/selector.h"

namespace subset::select {

// k distinct values of [0, m), uniformly, in random order. O(k) expected time plus m / 8 bytes of
// bitmap, so 10^7 of 10^8 takes tens of milliseconds.
std::vector<int64_t> sample_without_replacement(int64_t m, int64_t k, Rng& rng);

// Maps rank r of the non-excluded indices of [0, n) to the index itself, for every rank in place.
void rank_to_index(std::vector<int64_t>& ranks, const std::vector<int64_t>& excluded_sorted);

// Per-class point counts of `labels`, not counting the `excluded` indices (any order).
std::vector<int64_t> available_per_class(const std::vector<int64_t>& labels, const std::vector<int64_t>& excluded);

// For each class c, take[c] points drawn uniformly from the class's non-excluded points, in a
// uniformly random order (every prefix is a uniform sample of the class). Two passes over the
// labels, n bits and O(sum take) memory, no sorting: 10^7 of 10^8 labels in under a second here.
// Class c uses rng.fork(c) alone (draws, then the shuffle): independent of the other classes.
// `available`: available_per_class(labels, excluded) when the caller has it already (saves a pass).
std::vector<std::vector<int64_t>> sample_per_class(const std::vector<int64_t>& labels,
                                                   const std::vector<int64_t>& excluded,
                                                   const std::vector<int64_t>& take, const Rng& rng,
                                                   const std::vector<int64_t>* available = nullptr);

// The class-aware samplers (balanced, stratified): split the budget over the classes' open points
// with `allocate`, draw within each class, interleave the classes; stats.class_budget = the split.
using Allocation = std::vector<int64_t> (*)(const std::vector<int64_t>& available, int64_t budget);
Selection sample_classes(const SelectionRequest& request, const RunContext& context, Allocation allocate);

}  // namespace subset::select
