// k-center greedy (farthest-first) out of core. The in-memory selector computes exactly the
// brute-force loop: every point keeps mind = the smallest geometry::sq_dist to a centre so far, and
// the next pick is the unselected point of largest mind (lowest index on ties). Here the per-point
// state (mind, nearest centre: 12 bytes a point) and the chosen centres' rows stay in memory, and
// each step reads only the blocks whose points may move to the new centre.
//
// A point x of centre c_j keeps it when d(c, c_j) >= 2 kappa d(x, c_j) (the triangle inequality
// with a margin over sq_dist's rounding, as in kcenter.cpp). Each block remembers, per centre
// present in it, the largest mind among its points of that centre (and its farthest point); when
// every such group passes the test against the new centre c, no point of the block can change
// and the block is not read. Both its farthest point and its groups stay valid, since nothing in
// it changed. The centre-to-centre distances are computed once per step, on demand.
//
// Blocks to read are known when the step starts (a block's test depends on its own state only),
// so the next block is read on a second thread while the current one is computed (for_blocks).
//
// On several ranks (RowBlocks::share_among) each rank keeps the state of its own rows and reads its
// own blocks; a step ends with every rank's farthest point gathered and the same one chosen
// everywhere (largest value, lowest row: the single-process tie rule), and the chosen row is sent
// by the rank that owns it. The picks are the single-process ones.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/internal/extremes.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/kcenter_on_disk.h"

namespace subset::select {
namespace {

using geometry::kDistRelError;
using geometry::kPruneMargin;
using geometry::sq_dist;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kKappa = 1.0 + kPruneMargin;

struct BlockState {
  Farthest farthest;
  // (centre, the largest mind among the block's points of that centre); empty until the block has
  // been read once (its points have no centre before the first step).
  std::vector<std::pair<int32_t, double>> groups;
  bool read_once = false;
};

class OnDiskRun {
 public:
  OnDiskRun(const RowBlocks& rows, int64_t capacity)
      : rows_(rows),
        comm_(rows.comm()),
        first_row_(rows.first_row()),
        d_(rows.dim()),
        mind_(static_cast<size_t>(rows.owned_rows()), kInf),
        assign_(static_cast<size_t>(rows.owned_rows()), -1),
        blocks_(static_cast<size_t>(rows.end_block() - rows.first_block())),
        group_max_(static_cast<size_t>(capacity), -1.0),
        group_stamp_(static_cast<size_t>(capacity), -1),
        threshold_(static_cast<size_t>(capacity), 0.0),
        threshold_step_(static_cast<size_t>(capacity), -1) {
    centres_.reserve(static_cast<size_t>(capacity * d_));
  }

  // This rank's rows' centre numbers.
  const std::vector<int32_t>& assignment() const { return assign_; }

  // Adds centre c (an unselected point, or already selected ones in their order) and returns the
  // farthest unselected point afterwards, over all ranks.
  Farthest add(int64_t c) {
    const auto k = static_cast<int32_t>(centres_.size() / static_cast<size_t>(d_));
    xc_.resize(static_cast<size_t>(d_));
    const int owner = rows_.owner_of(c);
    if (owner == comm_.rank()) {
      rows_.read_rows(c, 1, xc_.data());
      // c itself, as in memory: its own centre unless it already lay at distance 0 from one.
      const auto local = static_cast<size_t>(c - first_row_);
      if (mind_[local] > 0.0) assign_[local] = k;
      mind_[local] = -1.0;
    }
    comm_.broadcast(xc_.data(), sizeof(float) * xc_.size(), owner);
    const int64_t block_of_c = c / rows_.block_rows();

    std::vector<int64_t> to_read;
    for (int64_t b = rows_.first_block(); b < rows_.end_block(); ++b) {
      if (b == block_of_c || !unchanged(state_of(b), k)) {
        to_read.push_back(b);
      } else {
        ++blocks_skipped_;
      }
    }
    rows_.for_blocks(to_read,
                     [&](int64_t first, MatrixViewF block) { update_block(first / rows_.block_rows(), block, k); });
    blocks_scanned_ += static_cast<int64_t>(to_read.size());
    centres_.insert(centres_.end(), xc_.begin(), xc_.end());

    Farthest mine;
    for (const auto& state : blocks_) mine.consider(state.farthest.value, state.farthest.index);
    Farthest best;
    for (const Farthest& f : gather_all(comm_, mine)) best.merge(f);
    return best;
  }

  int64_t blocks_scanned() const { return blocks_scanned_; }
  int64_t blocks_skipped() const { return blocks_skipped_; }
  int64_t evaluated() const { return evaluated_; }
  int64_t skipped_points() const { return skipped_points_; }
  int64_t updated() const { return updated_; }
  int64_t centre_pairs() const { return centre_pairs_; }

 private:
  // Points of centre j with mind <= threshold(j) keep j against the new centre (kcenter.cpp's test).
  double threshold(int32_t j, int32_t step) {
    if (threshold_step_[static_cast<size_t>(j)] != step) {
      const double dcc = sq_dist(xc_.data(), centres_.data() + static_cast<size_t>(j) * static_cast<size_t>(d_), d_);
      const double lower = std::sqrt(dcc / (1.0 + kDistRelError)) * (1.0 - 1e-12);
      const double half = lower / (2.0 * kKappa);
      threshold_[static_cast<size_t>(j)] = half * half * (1.0 - 1e-12);
      threshold_step_[static_cast<size_t>(j)] = step;
      ++centre_pairs_;
    }
    return threshold_[static_cast<size_t>(j)];
  }

  bool unchanged(const BlockState& state, int32_t step) {
    if (!state.read_once) return false;
    for (const auto& [j, largest] : state.groups)
      if (largest > threshold(j, step)) return false;
    return true;
  }

  BlockState& state_of(int64_t b) { return blocks_[static_cast<size_t>(b - rows_.first_block())]; }

  void update_block(int64_t b, MatrixViewF block, int32_t step) {
    const int64_t first = rows_.block_begin(b);
    const int64_t count = block.rows();
    BlockState& state = state_of(b);
    if (!state.read_once) geometry::check_values(block.data(), count, d_, 1e18, "kcenter", first);
    // Every centre present in the block gets its threshold before the parallel loop reads them.
    for (const auto& group : state.groups) threshold(group.first, step);
    const float* xc = xc_.data();
    int64_t evaluated = 0, skipped = 0, updated = 0;
#pragma omp parallel for schedule(static, 1024) reduction(+ : evaluated, skipped, updated)
    for (int64_t r = 0; r < count; ++r) {
      const auto i = static_cast<size_t>(first - first_row_ + r);
      const double m = mind_[i];
      if (m < 0.0) continue;  // selected
      const int32_t a = assign_[i];
      if (a >= 0 && m <= threshold_[static_cast<size_t>(a)]) {
        ++skipped;
        continue;
      }
      ++evaluated;
      const double dist = sq_dist(block.data() + r * d_, xc, d_);
      if (dist < m) {
        ++updated;
        mind_[i] = dist;
        assign_[i] = step;
      }
    }
    evaluated_ += evaluated;
    skipped_points_ += skipped;
    updated_ += updated;
    // The block's summary from its points' new state.
    state.read_once = true;
    state.farthest = Farthest{};
    state.groups.clear();
    for (int64_t r = 0; r < count; ++r) {
      const auto i = static_cast<size_t>(first - first_row_ + r);
      const double m = mind_[i];
      state.farthest.consider(m, first + r);
      if (m < 0.0 || assign_[i] < 0) continue;
      const auto j = static_cast<size_t>(assign_[i]);
      if (group_stamp_[j] != b) {
        group_stamp_[j] = b;
        group_max_[j] = m;
        state.groups.emplace_back(assign_[i], 0.0);
      } else {
        group_max_[j] = std::max(group_max_[j], m);
      }
    }
    for (auto& group : state.groups) group.second = group_max_[static_cast<size_t>(group.first)];
    // Stamps are block numbers: reset so a later rebuild of this block starts afresh.
    for (const auto& group : state.groups) group_stamp_[static_cast<size_t>(group.first)] = -1;
  }

  const RowBlocks& rows_;
  const Communicator& comm_;
  int64_t first_row_, d_;
  // This rank's rows, from first_row_ on:
  std::vector<double> mind_;     // squared distance to the nearest centre; +inf before any, -1 once selected
  std::vector<int32_t> assign_;  // centre number of each point, -1 before any
  std::vector<float> centres_;   // the centres' rows, in order
  std::vector<float> xc_;        // the centre being added
  std::vector<BlockState> blocks_;
  std::vector<double> group_max_;
  std::vector<int64_t> group_stamp_;
  std::vector<double> threshold_;
  std::vector<int32_t> threshold_step_;
  int64_t blocks_scanned_ = 0, blocks_skipped_ = 0, evaluated_ = 0, skipped_points_ = 0, updated_ = 0,
          centre_pairs_ = 0;
};

}  // namespace

Selection kcenter_on_disk(const SelectionRequest& request, const RunContext& context, int64_t init_index) {
  const RowBlocks& rows = *request.on_disk;
  const int64_t n = request.n;
  SUBSET_CHECK(rows.n() == n && rows.dim() == request.dim, "kcenter",
               "features on disk hold " << rows.n() << " x " << rows.dim() << " values, expected " << n << " x "
                                        << request.dim);
  const auto& already = request.already_selected;
  const int64_t total = static_cast<int64_t>(already.size()) + request.budget;
  OnDiskRun run(rows, total);
  const auto base = static_cast<int64_t>(already.size());
  Selection out;
  out.indices.reserve(static_cast<size_t>(request.budget));
  out.scores.reserve(static_cast<size_t>(request.budget));
  Farthest next;
  for (int64_t s = 0; s < total; ++s) {
    int64_t c;
    if (s < base) {
      c = already[static_cast<size_t>(s)];
    } else {
      c = s == 0 ? (init_index >= 0 ? init_index
                                    : static_cast<int64_t>(Rng(context.seed).uniform_index(static_cast<uint64_t>(n))))
                 : next.index;
      out.indices.push_back(c);
      // Its distance to the centres so far (+inf before any): the value it was chosen for.
      out.scores.push_back(static_cast<float>(s == 0 ? kInf : std::sqrt(next.value)));
    }
    next = run.add(c);
    context.report(s + 1, total);  // every step is a pass over (some of) the store: report each
  }

  const auto first = static_cast<int32_t>(base);
  out.weights.assign(static_cast<size_t>(request.budget), 0.0f);
  std::vector<int64_t> counts(static_cast<size_t>(request.budget), 0);
  for (int32_t a : run.assignment())
    if (a >= first) ++counts[static_cast<size_t>(a - first)];
  const Communicator& comm = rows.comm();
  sum_over_ranks(comm, counts);
  for (size_t i = 0; i < counts.size(); ++i) out.weights[i] = static_cast<float>(counts[i]);

  out.stats["covering_radius"] = next.index >= 0 ? std::sqrt(std::max(next.value, 0.0)) : 0.0;
  // Work summed over the ranks; centre pairs are computed on every rank that needs them.
  out.stats["distance_evaluations"] = sum_over_ranks(comm, run.evaluated() + run.centre_pairs());
  const int64_t skipped = sum_over_ranks(comm, run.skipped_points());
  out.stats["point_updates_skipped"] = skipped;
  out.stats["skipped_by_triangle"] = skipped;
  out.stats["updates"] = sum_over_ranks(comm, run.updated());
  out.stats["blocks_scanned"] = sum_over_ranks(comm, run.blocks_scanned());
  out.stats["blocks_skipped"] = sum_over_ranks(comm, run.blocks_skipped());
  return out;
}

}  // namespace subset::select
