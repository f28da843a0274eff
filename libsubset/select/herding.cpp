#include "libsubset/select/herding.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <optional>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/select/internal/extremes.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/herding_streamed.h"
#include "libsubset/select/internal/steps.h"

namespace subset::select {
namespace {

using geometry::sq_dist;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int64_t kParallelMin = 4096;  // fewer points: one thread (a step is then too short to share)
constexpr int64_t kBlock = 256;         // rows per unit of work


// The target on a 16-bit grid: t = t_step * t_level + t_rest, ||t_rest|| <= rest_norm.
void grid_target(const std::vector<float>& target, double t_sq, std::vector<int16_t>& target_levels, double& t_step,
                 double& rest_norm) {
  const auto d = static_cast<int64_t>(target.size());
  double t_max = 0.0;
  for (float v : target) t_max = std::max(t_max, std::abs(static_cast<double>(v)));
  t_step = t_max / geometry::kMaxTargetLevel;
  double rest2 = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    const double v = target[static_cast<size_t>(j)];
    const double level =
        t_step > 0.0 ? std::min<double>(geometry::kMaxTargetLevel, std::max<double>(-geometry::kMaxTargetLevel,
                                                                                    std::nearbyint(v / t_step)))
                     : 0.0;
    target_levels[static_cast<size_t>(j)] = static_cast<int16_t>(level);
    const double rest = v - t_step * level;
    rest2 += rest * rest;
  }
  rest_norm = std::sqrt(rest2) * (1.0 + 1e-9) + 1e-15 * std::sqrt(t_sq);
}

// What the bound pass needs of the target besides its grid levels (see grid_target).
struct BoundTarget {
  double t_step, t_sum, t_sq, rest_norm;
};

// Pass 1, over the 8-bit copy: with x = x^ + e (||e|| <= error) and x^ = lo + step q,
//   x^.t = lo sum(t) + step t_step (q.t_level) + step (q.t_rest), |q.t_rest| <= ||q|| rest_norm,
//   ||x - t|| >= sqrt(||x^||^2 - 2 x^.t + ||t||^2 - slack) - error,
// q.t_level being an exact integer. Blocks taken in turn by the team: this thread's share of
// `lower`, and into `best` the smallest bound it saw.
void bound_pass(const geometry::Quantized& qx, const geometry::TargetLevels& levels, const std::vector<char>& chosen,
                const BoundTarget& bt, std::atomic<int64_t>& next_block, std::vector<double>& lower, Nearest& best) {
  const auto n = static_cast<int64_t>(chosen.size());
  const int64_t d = qx.dim;
  const double t_step = bt.t_step, t_sum = bt.t_sum, t_sq = bt.t_sq, rest_norm = bt.rest_norm;
  int64_t dots[kBlock];
  for (int64_t begin; (begin = next_block.fetch_add(kBlock)) < n;) {
    const int64_t rows = std::min(kBlock, n - begin);
    geometry::dot_u8_rows(qx.row(begin), rows, d, levels, dots);
    for (int64_t r = 0; r < rows; ++r) {
      const auto i = static_cast<size_t>(begin + r);
      if (chosen[i]) {
        lower[i] = kInf;
        continue;
      }
      const double lo = qx.lo[i], step = qx.step[i];
      const double grid = step * t_step * static_cast<double>(dots[r]);
      const double cross = lo * t_sum + grid;
      const double est = qx.sq_norm[i] - 2.0 * cross + t_sq;
      const double slack = 2.0 * step * qx.q_norm[i] * rest_norm +
                           1e-12 * (qx.sq_norm[i] + 2.0 * std::abs(lo * t_sum) + 2.0 * std::abs(grid) + t_sq);
      const double l = std::sqrt(std::max(0.0, est - slack)) - qx.error[i];
      lower[i] = l > 0.0 ? l : 0.0;
      best.consider(lower[i], begin + r);
    }
  }
}

// No bounds: the exact objective of every unchosen point, in blocks taken in turn by the team;
// into `best` the nearest this thread saw.
void exact_scan(const float* x, int64_t d, const float* t, const std::vector<char>& chosen,
                std::atomic<int64_t>& next_block, int64_t& evaluations, Nearest& best) {
  const auto n = static_cast<int64_t>(chosen.size());
  auto row = [&](int64_t i) { return x + i * d; };
  for (int64_t begin; (begin = next_block.fetch_add(kBlock)) < n;) {
    const int64_t end = std::min(n, begin + kBlock);
    for (int64_t i = begin; i < end; ++i) {
      if (chosen[static_cast<size_t>(i)]) continue;
      ++evaluations;
      best.consider(sq_dist(row(i), t, d), i);
    }
  }
}

// Pass 2: the exact objective wherever the bound does not rule a point out, starting
// from the point with the smallest bound. sq_dist(x, t) >= (1 - kDistRelError)
// ||x - t||^2 > ub when the bound exceeds sqrt(ub) * kappa.
Nearest exact_pass(const float* x, int64_t d, const float* t, const std::vector<double>& lower, const Nearest& start,
                   int64_t& evaluations) {
  const auto n = static_cast<int64_t>(lower.size());
  auto row = [&](int64_t i) { return x + i * d; };
  const double ub = sq_dist(row(start.index), t, d);
  ++evaluations;
  const double bound = std::sqrt(ub) * (1.0 + geometry::kPruneMargin);
  Nearest pick;
  for (int64_t i = 0; i < n; ++i) {
    if (lower[static_cast<size_t>(i)] > bound) continue;  // also every chosen point (+inf)
    ++evaluations;
    pick.consider(sq_dist(row(i), t, d), i);
  }
  return pick;
}

}  // namespace

ParamSchema HerdingSelector::params() {
  ParamSchema s("herding");
  s.add_bool("quantized-bounds", true,
             "bound distances with an 8-bit copy of the features (+1 byte per value) to skip exact ones; "
             "speed and memory only, never the picks");
  return s;
}

HerdingSelector::HerdingSelector(const ParamMap& p) : prune_(p.get_bool("quantized-bounds")) {}

Selection HerdingSelector::select(const SelectionRequest& request, const RunContext& context) const {
  const int64_t n = request.n;
  const int64_t d = request.dim;
  SUBSET_CHECK((request.has_features() || request.streamed()) && d >= 1, "herding", "method needs features");
  if (request.streamed()) return herding_streamed(request, context);
  const float* x = request.features;
  geometry::check_values(x, n, d, 1e18, "herding");
  auto row = [&](int64_t i) { return x + i * d; };

  // The data mean, summed in index order (the definition; one pass, memory-bound).
  std::vector<double> mean(static_cast<size_t>(d), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const float* r = row(i);
    for (int64_t j = 0; j < d; ++j) mean[static_cast<size_t>(j)] += static_cast<double>(r[j]);
  }
  for (auto& m : mean) m /= static_cast<double>(n);

  std::vector<double> sum(static_cast<size_t>(d), 0.0);
  std::vector<char> chosen(static_cast<size_t>(n), 0);
  auto add = [&](int64_t i) {
    const float* r = row(i);
    for (int64_t j = 0; j < d; ++j) sum[static_cast<size_t>(j)] += static_cast<double>(r[j]);
    chosen[static_cast<size_t>(i)] = 1;
  };
  for (int64_t a : request.already_selected) add(a);
  int64_t k = static_cast<int64_t>(request.already_selected.size());

  geometry::Quantized qx;
  if (prune_) qx = geometry::quantize_rows(x, n, d);
  std::vector<int16_t> target_levels(static_cast<size_t>(d));
  std::optional<geometry::TargetLevels> levels;
  std::vector<double> lower(prune_ ? static_cast<size_t>(n) : 0);
  std::vector<float> target(static_cast<size_t>(d));
  const int threads = n >= kParallelMin ? std::max(1, omp_get_max_threads()) : 1;
  std::vector<Nearest> local(static_cast<size_t>(threads));
  std::vector<int64_t> local_evaluations(static_cast<size_t>(threads), 0);
  std::atomic<int64_t> next_block{0};
  int64_t evaluations = 0;
  double t_sum = 0.0, t_sq = 0.0, t_step = 0.0, rest_norm = 0.0, kk = 1.0;

  Selection out;
  out.indices.reserve(static_cast<size_t>(request.budget));
  out.scores.reserve(static_cast<size_t>(request.budget));
  steps::run(
      threads, request.budget,
      [&](int64_t) {
        check_interrupted();
        kk = static_cast<double>(k + 1);
        t_sum = t_sq = 0.0;
        for (int64_t j = 0; j < d; ++j) {
          const auto tj = static_cast<float>(kk * mean[static_cast<size_t>(j)] - sum[static_cast<size_t>(j)]);
          target[static_cast<size_t>(j)] = tj;
          t_sum += tj;
          t_sq += static_cast<double>(tj) * tj;
        }
        if (prune_) {
          grid_target(target, t_sq, target_levels, t_step, rest_norm);
          levels.emplace(target_levels.data(), d);
        }
        std::fill(local.begin(), local.end(), Nearest{});
        next_block.store(0);
        return true;
      },
      [&](int thread, int) {
        Nearest best;
        const float* t = target.data();
        if (prune_) {
          bound_pass(qx, *levels, chosen, BoundTarget{t_step, t_sum, t_sq, rest_norm}, next_block, lower, best);
        } else {
          exact_scan(x, d, t, chosen, next_block, local_evaluations[static_cast<size_t>(thread)], best);
        }
        local[static_cast<size_t>(thread)] = best;
      },
      [&](int64_t b) {
        const float* t = target.data();
        Nearest pick;
        for (const auto& l : local) pick.merge(l);
        if (prune_) {
          pick = exact_pass(x, d, t, lower, pick, evaluations);
        }
        out.indices.push_back(pick.index);
        out.scores.push_back(static_cast<float>(std::sqrt(pick.value) / kk));
        add(pick.index);
        ++k;
        if ((b + 1) % 16 == 0 || b + 1 == request.budget) context.report(b + 1, request.budget);
      });
  for (int64_t e : local_evaluations) evaluations += e;

  double gap2 = 0.0;
  for (int64_t j = 0; j < d; ++j) {
    const double g = mean[static_cast<size_t>(j)] - sum[static_cast<size_t>(j)] / static_cast<double>(k);
    gap2 += g * g;
  }
  out.stats["mean_gap"] = std::sqrt(gap2);
  out.stats["distance_evaluations"] = evaluations;
  return out;
}

}  // namespace subset::select
