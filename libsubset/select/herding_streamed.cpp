// Herding (herding.h) out of core: the same picks, scores and mean gap as the in-memory selector,
// which computes the definition exactly. In memory stay a chosen flag per row, the mean and sum
// (double, as defined), and per group of consecutive blocks a bounding ball: a centre c (float
// rows' mean) and the largest sq_dist from c to its unchosen rows.
//
// One pass computes the mean (blocks in order, so the sums run in index order as in memory) and
// the centres. The first pick reads every block and measures the radii; every later pick visits
// the groups by increasing lower bound on the distance from the target t~ to their rows,
//   ||x - t~|| >= ||c - t~|| - r,
// and stops at the first group whose bound proves that none of its rows can reach the nearest row
// found so far (nor tie it: ties go to the lowest index, whichever group holds it). Rows chosen
// later only shrink a group, so its radius stays a bound.
//
// On several ranks (RowBlocks::share_among) each rank holds the groups of its own blocks. The mean
// is summed in index order by passing the running sum from rank to rank (accumulate_in_rank_order),
// so it is the single-process mean bit for bit; each pick then gathers every rank's nearest row and
// takes the same one everywhere (smallest value, lowest row), whose owner sends its features.
//
// The rounding of sq_dist is covered as in herding.cpp: sq_dist is within kDistRelError of the
// squared distance of the float inputs, so the bounds work on true distances and skip a group only
// when its bound exceeds the best distance by kPruneMargin.
#include "libsubset/select/internal/herding_streamed.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/select/internal/extremes.h"
#include "libsubset/select/internal/geometry.h"

namespace subset::select {
namespace {

using geometry::kDistRelError;
using geometry::kPruneMargin;
using geometry::sq_dist;

constexpr double kInf = std::numeric_limits<double>::infinity();
// Fewer rows in a block: one thread scans it (a block is then too short to share).
constexpr int64_t kParallelMin = 4096;
// A group's summary besides its centre: radius, open rows, and its entry in a pick's visiting order.
constexpr double kGroupOverheadBytes = 32.0;


struct Group {
  int64_t first_block = 0, blocks = 0, first_row = 0, rows = 0;
  int64_t open = 0;        // unchosen rows
  double radius_sq = 0.0;  // the largest sq_dist from the centre to an unchosen row (first pick on)
};

// Lower bound on ||x - t|| for every unchosen x of a group (true distances; see the top comment).
double lower_bound(const float* centre, double radius_sq, const float* t, int64_t d) {
  const double centre_dist = std::sqrt(sq_dist(centre, t, d) / (1.0 + kDistRelError)) * (1.0 - 1e-12);
  const double radius = std::sqrt(radius_sq / (1.0 - kDistRelError)) * (1.0 + 1e-12);
  // A subtraction keeps the sign of the exact difference, so a positive bound is never lost to rounding.
  return std::max(0.0, centre_dist - radius);
}

// The unchosen row of `block` nearest to t, among those not above `limit` (their value exact: the
// early exit of sq_dist_below only cuts off rows that would lose); into radius_sq, when centre is
// set, the largest sq_dist from it to an unchosen row.
Nearest scan_block(MatrixViewF block, int64_t first, const std::vector<char>& chosen, const float* t, double limit,
                   const float* centre, double& radius_sq, int64_t& evaluations) {
  const int64_t count = block.rows(), d = block.cols();
  const auto below = linalg::sq_dist_below_kernel();
  Nearest best;
  double radius = radius_sq;
  int64_t evaluated = 0;
#pragma omp parallel if (count >= kParallelMin)
  {
    Nearest near;
    double r = 0.0;
    int64_t e = 0;
#pragma omp for schedule(static) nowait
    for (int64_t i = 0; i < count; ++i) {
      if (chosen[static_cast<size_t>(first + i)]) continue;
      const float* x = block.data() + i * d;
      if (centre) r = std::max(r, sq_dist(x, centre, d));
      const double cut = near.index >= 0 ? std::min(limit, near.value) : limit;
      const double v = below(x, t, d, std::nextafter(cut, kInf));
      ++e;
      if (v <= cut) near.consider(v, first + i);
    }
#pragma omp critical(subset_herding_streamed)
    {
      if (near.index >= 0) best.consider(near.value, near.index);
      radius = std::max(radius, r);
      evaluated += e;
    }
  }
  radius_sq = radius;
  evaluations += evaluated;
  return best;
}

}  // namespace

int64_t herding_group_blocks(int64_t dim, int64_t block_rows) {
  const double summary = static_cast<double>(dim) * sizeof(float) + kGroupOverheadBytes;
  const auto rows = static_cast<int64_t>(std::ceil(summary / kHerdingSummaryBytesPerRow));
  return std::max<int64_t>(1, (rows + block_rows - 1) / block_rows);
}

Selection herding_streamed(const SelectionRequest& request, const RunContext& context) {
  const RowBlocks& rows = *request.on_disk;
  const int64_t n = request.n, d = request.dim;
  SUBSET_CHECK(rows.n() == n && rows.dim() == d, "herding",
               "features on disk hold " << rows.n() << " x " << rows.dim() << " values, expected " << n << " x "
                                        << d);
  const Communicator& comm = rows.comm();
  const int64_t per_group = herding_group_blocks(d, rows.block_rows());
  const int64_t owned_blocks = rows.end_block() - rows.first_block();
  std::vector<Group> groups(static_cast<size_t>((owned_blocks + per_group - 1) / per_group));
  std::vector<float> centres(groups.size() * static_cast<size_t>(d));
  auto centre = [&](size_t g) { return centres.data() + g * static_cast<size_t>(d); };

  // The mean in index order, exactly as in memory; the groups' centres on the way.
  std::vector<double> mean(static_cast<size_t>(d), 0.0), group_sum(static_cast<size_t>(d), 0.0);
  std::vector<float> buffer;
  accumulate_in_rank_order(comm, mean, [&](std::vector<double>& running) {
    for (size_t g = 0; g < groups.size(); ++g) {
      Group& group = groups[g];
      group.first_block = rows.first_block() + static_cast<int64_t>(g) * per_group;
      group.blocks = std::min(per_group, rows.end_block() - group.first_block);
      group.first_row = rows.block_begin(group.first_block);
      std::fill(group_sum.begin(), group_sum.end(), 0.0);
      for (int64_t b = group.first_block; b < group.first_block + group.blocks; ++b) {
        check_interrupted();
        const MatrixViewF block = rows.read_block(b, buffer);
        const int64_t first = rows.block_begin(b);
        geometry::check_values(block.data(), block.rows(), d, 1e18, "herding", first);
        for (int64_t i = 0; i < block.rows(); ++i) {
          const float* r = block.data() + i * d;
          for (int64_t j = 0; j < d; ++j) {
            running[static_cast<size_t>(j)] += static_cast<double>(r[j]);
            group_sum[static_cast<size_t>(j)] += static_cast<double>(r[j]);
          }
        }
        group.rows += block.rows();
      }
      group.open = group.rows;
      for (int64_t j = 0; j < d; ++j)
        centre(g)[j] = static_cast<float>(group_sum[static_cast<size_t>(j)] / static_cast<double>(group.rows));
    }
  });
  for (auto& m : mean) m /= static_cast<double>(n);
  const int64_t group_rows = per_group * rows.block_rows();

  std::vector<double> sum(static_cast<size_t>(d), 0.0);
  std::vector<char> chosen(static_cast<size_t>(n), 0);
  auto add = [&](const float* r, int64_t i) {
    for (int64_t j = 0; j < d; ++j) sum[static_cast<size_t>(j)] += static_cast<double>(r[j]);
    chosen[static_cast<size_t>(i)] = 1;
    if (i >= rows.first_row() && i < rows.end_row()) --groups[static_cast<size_t>((i - rows.first_row()) / group_rows)].open;
  };
  std::vector<float> row(static_cast<size_t>(d));
  for (int64_t a : request.already_selected) {
    const int owner = rows.owner_of(a);
    if (owner == comm.rank()) rows.read_rows(a, 1, row.data());
    comm.broadcast(row.data(), sizeof(float) * row.size(), owner);
    add(row.data(), a);
  }
  int64_t k = static_cast<int64_t>(request.already_selected.size());

  Selection out;
  out.indices.reserve(static_cast<size_t>(request.budget));
  out.scores.reserve(static_cast<size_t>(request.budget));
  std::vector<float> target(static_cast<size_t>(d));
  std::vector<std::pair<double, size_t>> order;  // (lower bound, group): a pick's visiting order
  order.reserve(groups.size());
  int64_t evaluations = 0, bound_evaluations = 0, blocks_scanned = 0, blocks_skipped = 0;
  for (int64_t p = 0; p < request.budget; ++p) {
    check_interrupted();
    const double kk = static_cast<double>(k + 1);
    for (int64_t j = 0; j < d; ++j)
      target[static_cast<size_t>(j)] = static_cast<float>(kk * mean[static_cast<size_t>(j)] - sum[static_cast<size_t>(j)]);
    const bool first_pick = p == 0;
    order.clear();
    for (size_t g = 0; g < groups.size(); ++g) {
      const Group& group = groups[g];
      if (group.open == 0) {  // nothing left to pick: an empty set's bound is +inf
        blocks_skipped += group.blocks;
        continue;
      }
      const double bound = first_pick ? 0.0 : lower_bound(centre(g), group.radius_sq, target.data(), d);
      bound_evaluations += first_pick ? 0 : 1;
      order.emplace_back(bound, g);
    }
    std::sort(order.begin(), order.end());

    Nearest mine;
    for (size_t u = 0; u < order.size(); ++u) {
      const auto [bound, g] = order[u];
      Group& group = groups[g];
      if (mine.index >= 0 && bound > std::sqrt(mine.value) * (1.0 + kPruneMargin)) {
        for (size_t v = u; v < order.size(); ++v) blocks_skipped += groups[order[v].second].blocks;
        break;
      }
      for (int64_t b = group.first_block; b < group.first_block + group.blocks; ++b) {
        check_interrupted();
        const MatrixViewF block = rows.read_block(b, buffer);
        const int64_t first = rows.block_begin(b);
        const Nearest near = scan_block(block, first, chosen, target.data(), mine.value,
                                        first_pick ? centre(g) : nullptr, group.radius_sq, evaluations);
        if (near.index >= 0 && mine.consider(near.value, near.index))
          std::copy_n(block.data() + (near.index - first) * d, d, row.data());
        ++blocks_scanned;
      }
    }
    Nearest best;
    for (const Nearest& near : gather_all(comm, mine)) best.merge(near);
    SUBSET_CHECK(best.index >= 0, "herding", "no unselected point left to pick");  // validated: unreachable
    comm.broadcast(row.data(), sizeof(float) * row.size(), rows.owner_of(best.index));
    out.indices.push_back(best.index);
    out.scores.push_back(static_cast<float>(std::sqrt(best.value) / kk));
    add(row.data(), best.index);
    ++k;
    context.report(p + 1, request.budget);  // every pick is a pass over (some of) the store: report each
  }

  double gap2 = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    const double g = mean[static_cast<size_t>(j)] - sum[static_cast<size_t>(j)] / static_cast<double>(k);
    gap2 += g * g;
  }
  out.stats["mean_gap"] = std::sqrt(gap2);
  out.stats["distance_evaluations"] = sum_over_ranks(comm, evaluations + bound_evaluations);
  out.stats["blocks_scanned"] = sum_over_ranks(comm, blocks_scanned);
  out.stats["blocks_skipped"] = sum_over_ranks(comm, blocks_skipped);
  return out;
}

}  // namespace subset::select
