#include "libsubset/select/kcenter.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/internal/extremes.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/kcenter_on_disk.h"
#include "libsubset/select/internal/steps.h"

namespace subset::select {
namespace {

using geometry::kDistRelError;
using geometry::kPruneMargin;
using geometry::sq_dist;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kKappa = 1.0 + kPruneMargin;
constexpr int32_t kChunk = 1024;        // points (or centers) per scheduling unit
constexpr int64_t kParallelMin = 4096;  // fewer points: one thread (a step is then too short to share)
constexpr size_t kPrefetch = 8;         // candidates ahead whose rows are prefetched


struct Counters {
  int64_t by_cluster = 0, by_triangle = 0, by_sketch = 0, by_quantized = 0, evaluated = 0, updated = 0,
          center_pairs = 0;
  void add(const Counters& o) {
    by_cluster += o.by_cluster;
    by_triangle += o.by_triangle;
    by_sketch += o.by_sketch;
    by_quantized += o.by_quantized;
    evaluated += o.evaluated;
    updated += o.updated;
    center_pairs += o.center_pairs;
  }
};

class KCenterRun {
 public:
  KCenterRun(const SelectionRequest& r, int64_t sketch_dims, bool quantize, int64_t capacity)
      : x_(r.features),
        n_(r.n),
        d_(r.dim),
        sketch_(geometry::build_sketch(r.features, r.n, r.dim, sketch_dims)),
        quant_(quantize ? geometry::quantize_rows(r.features, r.n, r.dim) : geometry::Quantized{}),
        mind_(static_cast<size_t>(r.n), kInf),
        assign_(static_cast<size_t>(r.n), -1),
        threads_(std::max(1, omp_get_max_threads())),
        local_(static_cast<size_t>(threads_)) {
    centers_.reserve(static_cast<size_t>(capacity));
    radius_.reserve(static_cast<size_t>(capacity));
    thr_.reserve(static_cast<size_t>(capacity) + 1);
    if (sketch_.enabled()) {
      center_coords_.reserve(static_cast<size_t>(capacity * sketch_.p));
      center_error_.reserve(static_cast<size_t>(capacity));
    }
  }

  double mind(int64_t i) const { return mind_[static_cast<size_t>(i)]; }
  const std::vector<int32_t>& assignment() const { return assign_; }
  const Counters& counters() const { return counters_; }
  int64_t sketch_dims() const { return sketch_.p; }

  int threads() const { return threads_; }

  // Adding center c (an unselected point) updates every point's nearest center exactly as the
  // brute-force loop would: prepare(c) on one thread, then points(thread) on every thread of the
  // team, then finish(), which returns the farthest unselected point afterwards.
  void prepare(int64_t c) {
    c_ = c;
    if (quantized()) c_ref_ = quant_.reference(c);
    const auto k = static_cast<int32_t>(centers_.size());
    const float* xc = row(c);
    const float* yc = sketch_.enabled() ? sketch_.coords_of(c) : nullptr;
    const double ec = sketch_.enabled() ? sketch_.error[static_cast<size_t>(c)] : 0.0;

    // c itself: sq_dist(c, c) == 0, so it becomes its own nearest center unless it already was at
    // distance 0 from an earlier one (ties go to the earlier center). Then it is marked selected
    // (mind -1), which every test below skips.
    if (mind_[static_cast<size_t>(c)] > 0.0) assign_[static_cast<size_t>(c)] = k;
    mind_[static_cast<size_t>(c)] = -1.0;
    thr_.resize(static_cast<size_t>(k) + 1);
    thr_[static_cast<size_t>(k)] = kInf;  // the new cluster holds only c so far: nothing to test
    for (auto& l : local_) {
      if (l.radius.size() < static_cast<size_t>(k) + 1) {
        l.radius.resize(static_cast<size_t>(k) + 1, -1.0);
        l.stamp.resize(static_cast<size_t>(k) + 1, -1);
      }
    }

    for (auto& lo : local_) {  // all of them: the team may be smaller than threads_
      lo.best = Farthest{};
      lo.new_radius = -1.0;
      lo.counters = Counters{};
    }
    // 1. Which clusters can lose points to c. A point x of cluster j (center c_j, squared
    //    distance m) keeps its center when d(c, c_j) >= 2 kappa sqrt(m): then
    //    d(x, c) >= d(c, c_j) - d(x, c_j) > d(x, c_j) with room for every rounding error, so
    //    sq_dist(x, c) >= m. thr_[j] is that bound on m (from a lower bound on d(c, c_j)); the
    //    whole cluster is left alone when it covers radius_[j] (+inf then). On the calling
    //    thread: it is small next to step 2, and a barrier between the two would cost more.
    {
      Local& lo = local_[0];
      for (int32_t begin = 0; begin < k; begin += kChunk) {
        const int32_t end = std::min(k, begin + kChunk);
        auto& cand = lo.candidates;
        cand.clear();
        if (yc) {
          auto& sq = lo.sq;
          sq.resize(static_cast<size_t>(end - begin));
          sketch_.sq_dists_rows(center_coords_.data() + static_cast<size_t>(begin) * sketch_.p,
                                static_cast<size_t>(end - begin), yc, sq.data());
          for (int32_t j = begin; j < end; ++j) {
            const double need = 2.0 * kKappa * std::sqrt(std::max(radius_[static_cast<size_t>(j)], 0.0));
            if (sketch_.exceeds_sq(sq[static_cast<size_t>(j - begin)], center_error_[static_cast<size_t>(j)], ec, need))
              thr_[static_cast<size_t>(j)] = kInf;
            else
              cand.push_back(j);
          }
        } else {
          for (int32_t j = begin; j < end; ++j) cand.push_back(j);
        }
        for (size_t u = 0; u < cand.size(); ++u) {
          if (u + kPrefetch < cand.size()) prefetch_row(centers_[static_cast<size_t>(cand[u + kPrefetch])]);
          const auto j = static_cast<int32_t>(cand[u]);
          const double need = 2.0 * kKappa * std::sqrt(std::max(radius_[static_cast<size_t>(j)], 0.0));
          ++lo.counters.center_pairs;
          const int64_t cj = centers_[static_cast<size_t>(j)];
          double lower;
          if (quantized()) {
            lower = quant_.lower_bound(cj, c_ref_);
          } else {
            const double dcc = sq_dist(xc, row(cj), d_);
            lower = std::sqrt(dcc / (1.0 + kDistRelError)) * (1.0 - 1e-12);
          }
          if (lower >= need) {
            thr_[static_cast<size_t>(j)] = kInf;
          } else {
            const double half = lower / (2.0 * kKappa);
            thr_[static_cast<size_t>(j)] = half * half * (1.0 - 1e-12);
          }
        }
      }
    }

    next_chunk_.store(0);
  }

  void points(int thread) {
    const auto k = static_cast<int32_t>(centers_.size());
    const int64_t c = c_;
    const float* xc = row(c);
    const float* yc = sketch_.enabled() ? sketch_.coords_of(c) : nullptr;
    const double ec = sketch_.enabled() ? sketch_.error[static_cast<size_t>(c)] : 0.0;
    const double kappa2 = kKappa * kKappa;
    Local& lo = local_[static_cast<size_t>(thread)];
    {
      // 2. Every point, in chunks taken in turn by the team: first the cheap tests (triangle
      //    inequality through the point's own center, then the sketch), then the 8-bit bound and
      //    the exact distance for the points left, their rows prefetched a few points ahead. Each
      //    point's update depends on nothing but itself, so the result does not depend on the
      //    thread count or on which thread takes which chunk.
      for (int64_t begin; (begin = next_chunk_.fetch_add(kChunk)) < n_;) {
        const int64_t end = std::min(n_, begin + kChunk);
        auto& cand = lo.candidates;
        cand.clear();
        auto& tests = lo.tests;
        tests.clear();
        for (int64_t i = begin; i < end; ++i) {
          const double m = mind_[static_cast<size_t>(i)];
          if (m < 0.0) continue;  // selected
          const int32_t a = assign_[static_cast<size_t>(i)];
          if (a < 0) {  // no center yet (the very first one)
            cand.push_back(i);
            continue;
          }
          const double thr = thr_[static_cast<size_t>(a)];
          if (m <= thr) {
            if (thr == kInf) {
              ++lo.counters.by_cluster;
            } else {
              ++lo.counters.by_triangle;
              lo.keep(a, m, k);
            }
            lo.best.consider(m, i);
            continue;
          }
          (yc ? tests : cand).push_back(i);
        }
        if (!tests.empty()) {
          auto& sq = lo.sq;
          sq.resize(tests.size());
          sketch_.sq_dists(tests.data(), tests.size(), yc, sq.data());
          for (size_t u = 0; u < tests.size(); ++u) {
            const int64_t i = tests[u];
            const double m = mind_[static_cast<size_t>(i)];
            if (sketch_.exceeds_sq(sq[u], sketch_.error[static_cast<size_t>(i)], ec, kKappa * std::sqrt(m))) {
              ++lo.counters.by_sketch;
              lo.keep(assign_[static_cast<size_t>(i)], m, k);
              lo.best.consider(m, i);
            } else {
              cand.push_back(i);
            }
          }
        }
        for (size_t u = 0; u < cand.size(); ++u) {
          if (u + kPrefetch < cand.size()) prefetch_row(cand[u + kPrefetch]);
          const int64_t i = cand[u];
          double m = mind_[static_cast<size_t>(i)];
          const int32_t a = assign_[static_cast<size_t>(i)];
          if (a >= 0 && quantized()) {
            const double lower = quant_.lower_bound(i, c_ref_);
            if (lower * lower >= kappa2 * m) {
              ++lo.counters.by_quantized;
              lo.keep(a, m, k);
              lo.best.consider(m, i);
              continue;
            }
          }
          ++lo.counters.evaluated;
          const double dist = sq_dist(row(i), xc, d_);
          if (dist < m) {
            ++lo.counters.updated;
            m = dist;
            mind_[static_cast<size_t>(i)] = dist;
            assign_[static_cast<size_t>(i)] = k;
            lo.new_radius = std::max(lo.new_radius, dist);
          } else {
            lo.keep(a, m, k);
          }
          lo.best.consider(m, i);
        }
      }
    }
  }

  Farthest finish() {
    const auto k = static_cast<int32_t>(centers_.size());
    const int64_t c = c_;
    const float* yc = sketch_.enabled() ? sketch_.coords_of(c) : nullptr;
    const double ec = sketch_.enabled() ? sketch_.error[static_cast<size_t>(c)] : 0.0;
    // 3. Merge (maxima and integer sums: independent of the order). A touched cluster's radius
    //    becomes the largest distance among the points it kept.
    Farthest best;
    double new_radius = -1.0;
    for (auto& lo : local_) {
      best.merge(lo.best);
      new_radius = std::max(new_radius, lo.new_radius);
      counters_.add(lo.counters);
    }
    for (int32_t j = 0; j < k; ++j) {
      if (thr_[static_cast<size_t>(j)] == kInf) continue;
      double r = -1.0;
      for (const auto& lo : local_)
        if (lo.stamp[static_cast<size_t>(j)] == k) r = std::max(r, lo.radius[static_cast<size_t>(j)]);
      radius_[static_cast<size_t>(j)] = r;
    }
    centers_.push_back(c);
    radius_.push_back(new_radius);
    if (yc) {
      center_coords_.insert(center_coords_.end(), yc, yc + sketch_.p);
      center_error_.push_back(ec);
    }
    return best;
  }

 private:
  // Per-thread results of one step. radius[j] is valid when stamp[j] is the step's center number.
  struct Local {
    Farthest best;
    double new_radius = -1.0;
    Counters counters;
    std::vector<int64_t> candidates, tests;
    std::vector<double> sq;
    std::vector<double> radius;
    std::vector<int32_t> stamp;
    void keep(int32_t cluster, double m, int32_t step) {
      auto& s = stamp[static_cast<size_t>(cluster)];
      auto& r = radius[static_cast<size_t>(cluster)];
      if (s != step) {
        s = step;
        r = m;
      } else if (m > r) {
        r = m;
      }
    }
  };

  const float* row(int64_t i) const { return x_ + i * d_; }
  bool quantized() const { return quant_.n > 0; }
  // The bytes the next test will read for point i: its 8-bit row, else its float row.
  SUBSET_ALWAYS_INLINE void prefetch_row(int64_t i) const {
    if (quantized())
      geometry::prefetch(quant_.row(i), static_cast<size_t>(d_));
    else
      geometry::prefetch(row(i), static_cast<size_t>(d_) * sizeof(float));
  }

  const float* x_;
  int64_t n_, d_;
  geometry::Sketch sketch_;
  geometry::Quantized quant_;
  std::vector<double> mind_;     // squared distance to the nearest center; +inf before any, -1 once selected
  std::vector<int32_t> assign_;  // cluster (center number) of each point, -1 before any center
  std::vector<int64_t> centers_;
  std::vector<double> radius_;  // per cluster: >= the largest mind_ among its points
  std::vector<float> center_coords_;
  std::vector<double> center_error_;
  std::vector<double> thr_;  // per cluster, this step: points with mind_ <= thr_ keep their center
  int threads_;
  std::vector<Local> local_;
  int64_t c_ = -1;                        // the center being added
  geometry::Quantized::Reference c_ref_;  // its 8-bit row, prepared for comparisons
  std::atomic<int64_t> next_chunk_{0};    // first point of the next chunk to take
  Counters counters_;
};

}  // namespace

ParamSchema KCenterSelector::params() {
  ParamSchema s("kcenter");
  s.add_int("init-index", -1, "first pick when nothing is already selected; -1: a random point drawn from the seed",
            -1);
  s.add_int("sketch-dims", 32,
            "dimensions of the PCA sketch whose distance bounds skip work (0: none); speed only, never the picks", 0,
            1024);
  s.add_bool("quantized-bounds", true,
             "bound distances with an 8-bit copy of the features (+1 byte per value) to skip exact ones; "
             "speed and memory only, never the picks");
  return s;
}

KCenterSelector::KCenterSelector(const ParamMap& p)
    : init_index_(p.get_int("init-index")),
      sketch_dims_(p.get_int("sketch-dims")),
      quantized_bounds_(p.get_bool("quantized-bounds")) {}

Selection KCenterSelector::select(const SelectionRequest& request, const RunContext& context) const {
  const int64_t n = request.n;
  SUBSET_CHECK(init_index_ < n, "kcenter",
               "parameter 'init-index' must be below the number of points, " << n << ", got " << init_index_);
  SUBSET_CHECK((request.has_features() || request.streamed()) && request.dim >= 1, "kcenter", "method needs features");
  const auto& already = request.already_selected;
  const int64_t total = static_cast<int64_t>(already.size()) + request.budget;
  SUBSET_CHECK_PARAM(total <= std::numeric_limits<int32_t>::max(), "budget",
               "kcenter supports at most " << std::numeric_limits<int32_t>::max() << " chosen points");
  if (request.streamed()) return kcenter_on_disk(request, context, init_index_);
  geometry::check_values(request.features, n, request.dim, 1e18, "kcenter");

  KCenterRun run(request, sketch_dims_, quantized_bounds_, total);
  const auto base = static_cast<int64_t>(already.size());
  Selection out;
  out.indices.reserve(static_cast<size_t>(request.budget));
  out.scores.reserve(static_cast<size_t>(request.budget));
  Farthest next;
  // Step s adds already[s] for s < base, then pick s - base.
  steps::run(
      n >= kParallelMin ? run.threads() : 1, total,
      [&](int64_t s) {
        check_interrupted();
        int64_t c;
        if (s < base) {
          c = already[static_cast<size_t>(s)];
        } else {
          if (s == 0) {
            c = init_index_ >= 0 ? init_index_
                                 : static_cast<int64_t>(Rng(context.seed).uniform_index(static_cast<uint64_t>(n)));
          } else {
            c = next.index;
          }
          out.indices.push_back(c);
          out.scores.push_back(static_cast<float>(std::sqrt(run.mind(c))));  // +inf before any center
        }
        run.prepare(c);
        return true;
      },
      [&](int thread, int) { run.points(thread); },
      [&](int64_t s) {
        next = run.finish();
        // Each step costs one pass over the points, an already selected centre's as much as a
        // pick's: progress counts them all.
        const int64_t done = s + 1;
        if (done % 16 == 0 || done == total) context.report(done, total);
      });

  // Weights: points per new center (cluster numbers of the new picks follow already_selected's).
  const auto first = static_cast<int32_t>(already.size());
  out.weights.assign(static_cast<size_t>(request.budget), 0.0f);
  std::vector<int64_t> counts(static_cast<size_t>(request.budget), 0);
  for (int32_t a : run.assignment())
    if (a >= first) ++counts[static_cast<size_t>(a - first)];
  for (size_t i = 0; i < counts.size(); ++i) out.weights[i] = static_cast<float>(counts[i]);

  const Counters& cnt = run.counters();
  out.stats["covering_radius"] = next.index >= 0 ? std::sqrt(std::max(next.value, 0.0)) : 0.0;
  out.stats["distance_evaluations"] = cnt.evaluated + cnt.center_pairs;
  out.stats["point_updates_skipped"] = cnt.by_cluster + cnt.by_triangle + cnt.by_sketch + cnt.by_quantized;
  out.stats["skipped_by_cluster"] = cnt.by_cluster;
  out.stats["skipped_by_triangle"] = cnt.by_triangle;
  out.stats["skipped_by_sketch"] = cnt.by_sketch;
  out.stats["skipped_by_8bit_copy"] = cnt.by_quantized;
  out.stats["updates"] = cnt.updated;
  out.stats["sketch_dims"] = run.sketch_dims();
  return out;
}

}  // namespace subset::select
