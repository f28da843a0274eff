#include "libsubset/select/allocation.h"

#include <algorithm>
#include <numeric>
#include <queue>
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
  // A k-way merge on the keys (j + 0.5) / m_c, compared exactly as (2j + 1) * m_d < (2i + 1) * m_c,
  // ties to the lower class: O(k log C) instead of sorting all k keys.
  auto later = [&](const std::pair<size_t, size_t>& a, const std::pair<size_t, size_t>& b) {
    const int128 ka = static_cast<int128>(2 * a.second + 1) * counts[b.first];
    const int128 kb = static_cast<int128>(2 * b.second + 1) * counts[a.first];
    return ka != kb ? ka > kb : a.first > b.first;
  };
  std::priority_queue<std::pair<size_t, size_t>, std::vector<std::pair<size_t, size_t>>, decltype(later)> heap(later);
  size_t total = 0;
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] > 0) heap.emplace(c, 0);
    total += counts[c];
  }
  std::vector<std::pair<size_t, size_t>> out;
  out.reserve(total);
  while (!heap.empty()) {
    const auto [c, j] = heap.top();
    heap.pop();
    out.emplace_back(c, j);
    if (j + 1 < counts[c]) heap.emplace(c, j + 1);
  }
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
