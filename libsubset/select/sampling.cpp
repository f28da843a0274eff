#include "libsubset/select/sampling.h"

#include <algorithm>

#include "libsubset/select/allocation.h"

namespace subset::select {

std::vector<int64_t> sample_without_replacement(int64_t m, int64_t k, Rng& rng) {
  std::vector<int64_t> out;
  if (k <= 0) return out;
  out.reserve(static_cast<size_t>(k));
  std::vector<uint64_t> taken(static_cast<size_t>((m + 63) / 64), 0);
  auto test_and_set = [&](int64_t v) {
    uint64_t& word = taken[static_cast<size_t>(v >> 6)];
    const uint64_t bit = uint64_t{1} << (v & 63);
    const bool was = word & bit;
    word |= bit;
    return was;
  };
  if (2 * k <= m) {
    // Rejection: at most half the range is taken, so each draw succeeds with probability >= 1/2.
    while (static_cast<int64_t>(out.size()) < k) {
      const auto v = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(m)));
      if (!test_and_set(v)) out.push_back(v);
    }
    return out;
  }
  // Dense case: draw the m - k values to leave out, keep the rest, then shuffle (Fisher-Yates).
  for (int64_t left_out = 0; left_out < m - k;) {
    const auto v = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(m)));
    if (!test_and_set(v)) ++left_out;
  }
  for (int64_t v = 0; v < m; ++v)
    if (!(taken[static_cast<size_t>(v >> 6)] >> (v & 63) & 1)) out.push_back(v);
  for (size_t i = out.size(); i > 1; --i) std::swap(out[i - 1], out[rng.uniform_index(i)]);
  return out;
}

void rank_to_index(std::vector<int64_t>& ranks, const std::vector<int64_t>& excluded_sorted) {
  if (excluded_sorted.empty()) return;
  // gaps[j] = number of non-excluded indices before excluded_sorted[j].
  std::vector<int64_t> gaps(excluded_sorted.size());
  for (size_t j = 0; j < excluded_sorted.size(); ++j) gaps[j] = excluded_sorted[j] - static_cast<int64_t>(j);
  for (auto& r : ranks) {
    // Number of excluded indices e_j with gaps[j] <= r: each shifts the rank up by one.
    const auto shift = std::upper_bound(gaps.begin(), gaps.end(), r) - gaps.begin();
    r += shift;
  }
}

namespace {
std::vector<uint64_t> bitmap_of(int64_t n, const std::vector<int64_t>& members) {
  std::vector<uint64_t> bits(static_cast<size_t>((n + 63) / 64), 0);
  for (int64_t m : members) bits[static_cast<size_t>(m >> 6)] |= uint64_t{1} << (m & 63);
  return bits;
}
bool has(const std::vector<uint64_t>& bits, int64_t i) { return bits[static_cast<size_t>(i >> 6)] >> (i & 63) & 1; }
}  // namespace

std::vector<int64_t> available_per_class(const std::vector<int64_t>& labels, const std::vector<int64_t>& excluded) {
  std::vector<int64_t> sizes;
  for (int64_t l : labels) {
    if (l >= static_cast<int64_t>(sizes.size())) sizes.resize(static_cast<size_t>(l) + 1, 0);
    ++sizes[static_cast<size_t>(l)];
  }
  for (int64_t e : excluded) --sizes[static_cast<size_t>(labels[static_cast<size_t>(e)])];
  return sizes;
}

std::vector<std::vector<int64_t>> sample_per_class(const std::vector<int64_t>& labels,
                                                   const std::vector<int64_t>& excluded,
                                                   const std::vector<int64_t>& take, const Rng& rng,
                                                   const std::vector<int64_t>* available_given) {
  const auto n = static_cast<int64_t>(labels.size());
  const std::vector<int64_t> available =
      available_given ? *available_given : available_per_class(labels, excluded);
  const size_t classes = take.size();
  // Draw ranks within each class and mark them in a bitmap per class (n bits in all), resolve the
  // marked ranks to indices in one ordered pass, then shuffle each class's picks: O(n + k), no sort.
  std::vector<std::vector<uint64_t>> wanted(classes);
  std::vector<Rng> class_rngs;
  std::vector<std::vector<int64_t>> picks(classes);
  for (size_t c = 0; c < classes; ++c) {
    class_rngs.push_back(rng.fork(c));
    if (take[c] == 0) continue;
    wanted[c] = bitmap_of(available[c], sample_without_replacement(available[c], take[c], class_rngs[c]));
    picks[c].reserve(static_cast<size_t>(take[c]));
  }
  const std::vector<uint64_t> skip = bitmap_of(n, excluded);
  std::vector<int64_t> seen(classes + 1, 0);  // non-excluded points of each class passed so far
  for (int64_t i = 0; i < n; ++i) {
    const auto c = static_cast<size_t>(labels[static_cast<size_t>(i)]);
    if (c >= classes || take[c] == 0 || has(skip, i)) continue;
    if (has(wanted[c], seen[c]++)) picks[c].push_back(i);
  }
  // Index order would make every prefix favour low indices; a uniform shuffle makes each prefix a
  // uniform sample of the class.
  for (size_t c = 0; c < classes; ++c)
    for (size_t k = picks[c].size(); k > 1; --k) std::swap(picks[c][k - 1], picks[c][class_rngs[c].uniform_index(k)]);
  return picks;
}

Selection sample_classes(const SelectionRequest& request, const RunContext& context, Allocation allocate) {
  const auto& labels = *request.labels;
  const auto available = available_per_class(labels, request.already_selected);
  const auto take = allocate(available, request.budget);
  Selection out;
  out.indices = interleave(sample_per_class(labels, request.already_selected, take, Rng(context.seed), &available));
  out.stats["class_budget"] = take;
  return out;
}

}  // namespace subset::select
