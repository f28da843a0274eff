#pragma once
// How a budget is split over classes, and how per-class picks are interleaved into one order.
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace subset::select {

// Equal shares; the remainder goes one each to the lowest class ids; a class with fewer points than
// its share takes all it has and its unused share is spread over the others (water-filling).
// Requires budget <= sum(available).
std::vector<int64_t> balanced_allocation(const std::vector<int64_t>& available, int64_t budget);

// Proportional to class size, rounded by largest remainder (ties to the lower class id). When the
// budget is at least the number of non-empty classes, every such class gets at least one point,
// taken from the class whose rounded share most exceeds its exact quota.
std::vector<int64_t> stratified_allocation(const std::vector<int64_t>& available, int64_t budget);

// Merges per-class pick lists into one order such that every prefix is as close to the classes'
// final proportions as possible: the j-th of a class's m picks sits at (j + 0.5) / m, ties by class.
std::vector<int64_t> interleave(const std::vector<std::vector<int64_t>>& per_class);
// The same order as (class, position-within-class) pairs, for merging lists that travel together.
std::vector<std::pair<size_t, size_t>> interleave_order(const std::vector<size_t>& counts);

}  // namespace subset::select
