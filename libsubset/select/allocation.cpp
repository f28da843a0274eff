#include "libsubset/select/allocation.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "libsubset/core/error.h"

namespace subset::select {
namespace {
__extension__ typedef __int128 int128;  // GCC/Clang; silences -Wpedantic
}  // namespace

std::vector<int64_t> balanced_allocation(const std::vector<int64_t>& available, int64_t budget) {
  const int64_t total = std::accumulate(available.begin(), available.end(), int64_t{0});
  SUBSET_CHECK(budget >= 0 && budget <= total, "budget", "budget " << budget << " exceeds the " << total
                                                                   << " points available");
  std::vector<int64_t> alloc(available.size(), 0);
  int64_t remaining = budget;
  while (remaining > 0) {
    std::vector<size_t> open;
    for (size_t c = 0; c < available.size(); ++c)
      if (alloc[c] < available[c]) open.push_back(c);
    const int64_t share = remaining / static_cast<int64_t>(open.size());
    if (share == 0) {  // fewer points left than open classes: one each, lowest ids first
      for (size_t i = 0; i < static_cast<size_t>(remaining); ++i) ++alloc[open[i]];
      break;
    }
    for (size_t c : open) {
      const int64_t give = std::min(share, available[c] - alloc[c]);
      alloc[c] += give;
      remaining -= give;
    }
  }
  return alloc;
}

std::vector<int64_t> stratified_allocation(const std::vector<int64_t>& available, int64_t budget) {
  const int64_t total = std::accumulate(available.begin(), available.end(), int64_t{0});
  SUBSET_CHECK(budget >= 0 && budget <= total, "budget", "budget " << budget << " exceeds the " << total
                                                                   << " points available");
  const size_t k = available.size();
  std::vector<int64_t> alloc(k, 0);
  if (budget == 0) return alloc;  // also spares the division when every class is empty
  // Exact integer arithmetic throughout: class c's quota is budget * available[c] / total, its
  // remainder (budget * available[c]) mod total. Remainders compared as doubles would break exact
  // ties by rounding error (7/3 - 2 > 1/3 in binary) instead of by class id.
  std::vector<int128> remainder(k, 0);
  int64_t given = 0;
  for (size_t c = 0; c < k; ++c) {
    const int128 scaled = static_cast<int128>(budget) * available[c];
    alloc[c] = static_cast<int64_t>(scaled / total);
    remainder[c] = scaled % total;
    given += alloc[c];
  }
  std::vector<size_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return remainder[a] > remainder[b]; });
  for (size_t i = 0; given < budget; ++i) {
    ++alloc[order[i % k]];
    ++given;
  }
  const int64_t nonempty = std::count_if(available.begin(), available.end(), [](int64_t s) { return s > 0; });
  if (budget >= nonempty) {
    // How far class d's share exceeds its quota, times total.
    auto excess = [&](size_t d) {
      return static_cast<int128>(alloc[d]) * total - static_cast<int128>(budget) * available[d];
    };
    for (size_t c = 0; c < k; ++c) {
      if (available[c] == 0 || alloc[c] > 0) continue;
      size_t donor = k;
      for (size_t d = 0; d < k; ++d) {
        if (alloc[d] <= 1) continue;
        if (donor == k || excess(d) > excess(donor)) donor = d;
      }
      --alloc[donor];
      ++alloc[c];
    }
  }
  return alloc;
}

std::vector<std::pair<size_t, size_t>> interleave_order(const std::vector<size_t>& counts) {
  std::vector<std::tuple<double, size_t, size_t>> keyed;
  for (size_t c = 0; c < counts.size(); ++c)
    for (size_t j = 0; j < counts[c]; ++j)
      keyed.emplace_back((static_cast<double>(j) + 0.5) / static_cast<double>(counts[c]), c, j);
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(keyed.size());
  for (const auto& [key, c, j] : keyed) out.emplace_back(c, j);
  return out;
}

std::vector<int64_t> interleave(const std::vector<std::vector<int64_t>>& per_class) {
  std::vector<size_t> counts;
  for (const auto& list : per_class) counts.push_back(list.size());
  std::vector<int64_t> out;
  out.reserve(per_class.size());
  for (const auto& [c, j] : interleave_order(counts)) out.push_back(per_class[c][j]);
  return out;
}

}  // namespace subset::select
