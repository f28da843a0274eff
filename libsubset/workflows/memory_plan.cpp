#include "libsubset/workflows/memory_plan.h"

#include <algorithm>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/params.h"

namespace subset::workflows {
namespace {

// Blocks larger than this read no faster; smaller blocks let bounds skip more of the data.
constexpr double kLargestBlock = 64.0 * 1024 * 1024;

double method_bytes(const std::function<double(int64_t, int64_t, int64_t)>& need, int64_t n, int64_t dim,
                    int64_t picks) {
  return need ? need(n, dim, picks) : 0.0;
}

std::string streaming_methods() {
  std::string names;
  for (const auto& m : select::methods())
    if (!m.needs_features || m.streams()) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

std::string distributed_methods() {
  std::string names;
  for (const auto& m : select::methods())
    if (m.needs_features && ((m.streams() && m.distributes) || m.trains_on_shares))
      names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

}  // namespace

SelectMemoryPlan plan_select_memory(const select::MethodSpec& spec, const io::FeatureArray& features, int64_t picks,
                                    bool per_class, int64_t largest_class, const MemoryLimit& limit) {
  const int64_t n = features.rows(), dim = features.cols();
  const double row_bytes = static_cast<double>(dim) * sizeof(float);
  SelectMemoryPlan plan;
  plan.features_bytes = static_cast<double>(n) * row_bytes;
  plan.limit_bytes = limit.bytes;
  const double spendable = limit.spendable();
  // Per class, the whole matrix and one class's copy of its rows are in memory at once, with the
  // classes' member lists (16 bytes a point).
  const double class_copy = per_class ? static_cast<double>(largest_class) * row_bytes + 16.0 * static_cast<double>(n) : 0.0;
  const double in_memory = plan.features_bytes + class_copy + method_bytes(spec.memory_in_memory, n, dim, picks);
  if (in_memory <= spendable) {
    plan.method_bytes = in_memory - plan.features_bytes;
    plan.summary = "in memory: " + format_bytes(plan.features_bytes) + " of features + " +
                   format_bytes(plan.method_bytes) + ", under " + limit.describe();
    return plan;
  }
  // On disk: per class, the largest class in memory in turn; else the method's per-point state.
  // Either way two blocks (one read while the other is computed).
  double state = 0;
  const char* how = "";
  if (per_class && !spec.needs_scores) {  // scoring methods score all classes at once, in memory
    const double class_rows = static_cast<double>(largest_class);
    state = class_rows * row_bytes + 16.0 * static_cast<double>(n) +
            method_bytes(spec.memory_in_memory, largest_class, dim, picks);
    how = "each class read into memory in turn";
  } else if (spec.streams()) {
    state = method_bytes(spec.memory_on_disk, n, dim, picks);
    how = "the features read in blocks";
  } else {
    SUBSET_CHECK_PARAM(false, "memory-limit",
                       "method " << spec.name << " needs its features in memory: " << format_bytes(plan.features_bytes)
                                 << (in_memory > plan.features_bytes
                                         ? " + " + format_bytes(in_memory - plan.features_bytes)
                                         : std::string())
                                 << ", more than "
                                 << limit.describe() << " leaves (" << format_bytes(std::max(spendable, 0.0))
                                 << "); raise --memory-limit, select on a smaller embedding (subset compress, "
                                    "subset embed), or use a method that streams: "
                                 << streaming_methods());
  }
  const double for_blocks = (spendable - state) / 2.0;
  const int64_t chunk = std::max<int64_t>(1, features.info().chunk_rows);
  const double smallest = static_cast<double>(chunk) * row_bytes;
  SUBSET_CHECK_PARAM(for_blocks >= smallest, "memory-limit",
                     limit.describe() << " is too small for " << spec.name << " on " << n << " x " << dim
                                      << " features (" << how << "): it needs " << format_bytes(state)
                                      << " besides two blocks of " << format_bytes(smallest) << ", and "
                                      << format_bytes(std::max(spendable, 0.0)) << " is left");
  plan.on_disk = true;
  plan.block_rows = std::min(features.block_rows_for(static_cast<size_t>(std::min(for_blocks, kLargestBlock))),
                             std::max<int64_t>(chunk, n));
  const double block_bytes = static_cast<double>(plan.block_rows) * row_bytes;
  plan.blocks_kept = static_cast<int64_t>((spendable - state - 2.0 * block_bytes) / block_bytes);
  plan.method_bytes = state;
  plan.summary = "on disk (" + std::string(how) + "): " + format_bytes(plan.features_bytes) + " of features in blocks of " +
                 std::to_string(plan.block_rows) + " rows (" +
                 format_bytes(block_bytes) + "), " + std::to_string(plan.blocks_kept) + " of " +
                 std::to_string((n + plan.block_rows - 1) / plan.block_rows) + " kept in memory once read, + " +
                 format_bytes(state) + ", under " + limit.describe();
  return plan;
}

SelectMemoryPlan plan_shared_select(const select::MethodSpec& spec, const io::FeatureArray& features, int64_t picks,
                                    bool per_class, const MemoryLimit& limit, int ranks) {
  SUBSET_CHECK_PARAM(!per_class, "per-class", "--per-class does not run on several ranks yet; run it in one process");
  SUBSET_CHECK_PARAM(spec.trains_on_shares, "method", "method " << spec.name << " does not train on shares of the rows");
  const int64_t n = features.rows(), dim = features.cols();
  SUBSET_CHECK(n >= ranks, "mpirun", spec.name << " on " << ranks << " ranks needs at least one row a rank, and the store has "
                                              << n);
  const int64_t share = (n + ranks - 1) / ranks;
  SelectMemoryPlan plan;
  plan.features_bytes = static_cast<double>(share) * static_cast<double>(dim) * sizeof(float);
  plan.limit_bytes = limit.bytes;
  // The share's own needs, and every rank's scores (4 bytes a row) gathered on each.
  plan.method_bytes = method_bytes(spec.memory_in_memory, share, dim, picks) + 4.0 * static_cast<double>(n);
  const double spendable = limit.spendable();
  SUBSET_CHECK_PARAM(plan.features_bytes + plan.method_bytes <= spendable, "memory-limit",
                     limit.describe() << " is too small for " << spec.name << " on " << ranks << " ranks: a rank holds "
                                      << format_bytes(plan.features_bytes) << " of features (its share of " << share
                                      << " rows) and " << format_bytes(plan.method_bytes) << " besides, and "
                                      << format_bytes(std::max(spendable, 0.0)) << " is left; use more ranks");
  plan.summary = "on " + std::to_string(ranks) + " ranks: each rank holds its share of at most " + std::to_string(share) +
                 " rows in memory (" + format_bytes(plan.features_bytes) + " of features) + " +
                 format_bytes(plan.method_bytes) + ", under " + limit.describe() + " a rank";
  return plan;
}

SelectMemoryPlan plan_distributed_select(const select::MethodSpec& spec, const io::FeatureArray& features, int64_t picks,
                                         bool per_class, const MemoryLimit& limit, int ranks, int64_t most_block_rows) {
  SUBSET_CHECK_PARAM(!per_class, "per-class", "--per-class does not run on several ranks yet; run it in one process");
  SUBSET_CHECK_PARAM(spec.streams() && spec.distributes, "method",
                     "method " << spec.name << " does not run on several ranks; of the methods that read features, "
                               << distributed_methods() << " do (and the label-only ones)");
  const int64_t n = features.rows(), dim = features.cols();
  const double row_bytes = static_cast<double>(dim) * sizeof(float);
  const int64_t chunk = std::max<int64_t>(1, features.info().chunk_rows);
  const int64_t share = (n + ranks - 1) / ranks;
  SelectMemoryPlan plan;
  plan.on_disk = true;
  plan.features_bytes = static_cast<double>(n) * row_bytes;
  plan.limit_bytes = limit.bytes;
  plan.method_bytes = method_bytes(spec.memory_on_disk, share, dim, picks);
  const double spendable = limit.spendable();
  const double for_blocks = (spendable - plan.method_bytes) / 2.0;
  const double smallest = static_cast<double>(chunk) * row_bytes;
  SUBSET_CHECK_PARAM(for_blocks >= smallest, "memory-limit",
                     limit.describe() << " is too small for " << spec.name << " on " << ranks << " ranks: a rank needs "
                                      << format_bytes(plan.method_bytes) << " besides two blocks of "
                                      << format_bytes(smallest) << ", and " << format_bytes(std::max(spendable, 0.0))
                                      << " is left");
  // Whole chunks that two fit in what the limit leaves, no larger than a rank's share (so that
  // every rank has work when the store allows) nor than the caller's bound, and at most 16 MiB: a
  // rank's share is often small enough to keep in memory, and smaller blocks leave more of the
  // limit for keeping them (a rank that must read its rows once per pick gains little from ranks).
  constexpr double kLargestRankBlock = 16.0 * 1024 * 1024;
  plan.block_rows = std::min({features.block_rows_for(static_cast<size_t>(std::min(for_blocks, kLargestRankBlock))),
                              std::max<int64_t>(chunk, (share + chunk - 1) / chunk * chunk),
                              std::max<int64_t>(chunk, most_block_rows)});
  const double block_bytes = static_cast<double>(plan.block_rows) * row_bytes;
  plan.blocks_kept = static_cast<int64_t>((spendable - plan.method_bytes - 2.0 * block_bytes) / block_bytes);
  plan.summary = "on " + std::to_string(ranks) + " ranks: " + format_bytes(plan.features_bytes) + " of features in blocks of " +
                 std::to_string(plan.block_rows) + " rows (" + format_bytes(block_bytes) + "), each rank reading its share, " +
                 "up to " + std::to_string(plan.blocks_kept) + " of its blocks kept in memory once read, + " +
                 format_bytes(plan.method_bytes) + " a rank, under " + limit.describe() + " a rank";
  return plan;
}

}  // namespace subset::workflows
