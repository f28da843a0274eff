// Lloyd's in-memory passes over LloydCore (internal/kmeans_lloyd.h) and the iteration loop that
// both the in-memory and the streamed k-means run: updates, convergence, the final assignment and
// the representatives.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/product.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/kmeans_lloyd.h"

namespace subset::select {
using namespace kmeans_internal;
using geometry::sq_dist;

namespace {

// The passes over features in memory: the blocks shared among OpenMP threads.
class InMemoryLloyd : public LloydPasses {
 public:
  InMemoryLloyd(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k)
      : x_(x.data()), n_(x.rows()), d_(x.cols()), core_(x.rows(), x.cols(), fixed, k) {
    for (size_t s = 0; s < fixed.size(); ++s)
      std::copy_n(row(fixed[s]), d_, core_.centres().row(k + static_cast<int64_t>(s)).data());
    core_.set_norms(0, x_, n_);
  }

  LloydCore& core() override { return core_; }
  const float* row(int64_t i) const { return x_ + i * d_; }

  void assign(std::vector<int32_t>& label, std::vector<double>& dist, NearestPoints* near) override {
    label.resize(sz(n_));
    dist.resize(sz(n_));
    core_.begin_assign(near != nullptr);
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<NearestPoints> local(near ? sz(threads) : 0);
    for (auto& l : local) l.reset(core_.k());
    const int64_t blocks = core_.blocks();
    int64_t settled = 0;
#pragma omp parallel num_threads(threads) reduction(+ : settled)
    {
      const int t = omp_get_thread_num();
      LloydCore::Scratch scratch;
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < blocks; ++b)
        settled += core_.assign_block(b, row(b * core_.block()), label, dist, near ? &local[sz(t)] : nullptr,
                                      scratch);
    }
    core_.end_assign(settled);
    if (near) {
      near->reset(core_.k());
      for (auto& l : local) near->merge(l);
    }
    check_interrupted();
  }

  int64_t update(std::vector<int32_t>& label, const std::vector<double>& dist) override {
    const int64_t k = core_.k();
    const RowMatrixF before = core_.centres().topRows(k);
    std::vector<int64_t> count;
    const int64_t empty = core_.relocate(label, dist, count, nullptr);
    // members of each centroid in index order (counting sort)
    std::vector<int64_t> start(sz(k) + 1, 0);
    for (int64_t j = 0; j < k; ++j) start[sz(j) + 1] = start[sz(j)] + count[sz(j)];
    std::vector<int64_t> members(sz(start[sz(k)]));
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n_; ++i) {
      const int32_t l = label[sz(i)];
      if (l < k) members[sz(fill[sz(l)]++)] = i;
    }
#pragma omp parallel
    {
      std::vector<double> sum(sz(d_));
#pragma omp for schedule(dynamic, 4)
      for (int64_t j = 0; j < k; ++j) {
        const int64_t b = start[sz(j)], e = start[sz(j) + 1];
        if (b == e) continue;  // no points: stays where it is
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t q = b; q < e; ++q) {
          const float* r = row(members[sz(q)]);
          for (int64_t t = 0; t < d_; ++t) sum[sz(t)] += static_cast<double>(r[t]);
        }
        core_.set_mean(j, sum.data(), e - b);
      }
    }
    core_.finish_update(before);
    return empty;
  }

  std::vector<int64_t> representatives(const NearestPoints& near, int64_t& scans) override {
    const RowMatrixF& c = core_.centres();
    return core_.representatives(
        near,
        [&](int64_t j, int t) {
          return sq_dist(row(near.idx[sz(j) * NearestPoints::T + sz(t)]), c.row(j).data(), d_);
        },
        [&](int64_t j, const std::vector<char>& used) { return nearest_unused(c.row(j).data(), used); }, scans);
  }

 private:
  int64_t nearest_unused(const float* c, const std::vector<char>& used) const {
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<double> best(sz(threads), kInf);
    std::vector<int64_t> arg(sz(threads), -1);
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
#pragma omp for schedule(static)
      for (int64_t i = 0; i < n_; ++i) {
        if (used[sz(i)]) continue;
        const double e = sq_dist(row(i), c, d_);
        if (e < best[sz(t)] || (e == best[sz(t)] && i < arg[sz(t)])) {
          best[sz(t)] = e;
          arg[sz(t)] = i;
        }
      }
    }
    double b = kInf;
    int64_t a = -1;
    for (int t = 0; t < threads; ++t)
      if (arg[sz(t)] >= 0 && (a < 0 || best[sz(t)] < b || (best[sz(t)] == b && arg[sz(t)] < a))) {
        b = best[sz(t)];
        a = arg[sz(t)];
      }
    return a;
  }

  const float* x_;
  int64_t n_, d_;
  LloydCore core_;
};

double sum_in_order(const std::vector<double>& v) {
  double s = 0.0;
  for (double f : v) s += f;
  return s;
}

}  // namespace

namespace kmeans_internal {

KMeansResult run_lloyd_loop(LloydPasses& lloyd, std::vector<int32_t> label, std::vector<double> dist,
                            int64_t iterations, double tolerance, const RunContext& context, int64_t progress_done,
                            int64_t progress_total, double progress_seconds) {
  KMeansResult res;
  NearestPoints near;
  bool have = !label.empty();
  std::vector<int32_t> previous;
  double previous_inertia = 0.0;
  int64_t relocated_last = 0;
  // Progress units left to Lloyd, spread evenly over its iterations (kmeans_fit: k units each, one
  // seeding step being one). That guess of the cost can be far off either way: a seeding step streams
  // the N x d points, a Lloyd iteration runs N x k x d through BLAS, and which is faster per
  // distance depends on the machine and on d (60000 x 784, k 1000 on a 2-core test machine: an
  // iteration cost 66 seeding steps, not 1000). So once a whole iteration is timed (the first one
  // after seeding only moves the centres: the assignment came with the seeds), an iteration counts
  // as many units as the time it took would have bought at the seeding's pace, and the total
  // follows. The fraction done only grows:
  // (k + (j + 1) w) / (k + iterations w) > (k + j k) / (k + iterations k) for w >= 1.
  int64_t step = iterations > 0 ? (progress_total - progress_done) / iterations : 0;
  bool timed = !(progress_seconds > 0 && progress_done > 0);  // nothing to time against
  for (int64_t it = 0;; ++it) {
    const bool last = it == iterations;
    const auto iteration_started = std::chrono::steady_clock::now();
    const bool whole_iteration = !have;
    if (have) {
      lloyd.core().forget_bounds();
      have = false;
    } else {
      lloyd.assign(label, dist, last ? &near : nullptr);
    }
    const double inertia = sum_in_order(dist);
    if (it == 0) res.initial_inertia = inertia;
    res.inertia = inertia;
    if (last) break;
    if (it > 0) {
      const bool repeat = relocated_last == 0 && label == previous;
      const bool small = tolerance > 0.0 && previous_inertia - inertia <= tolerance * previous_inertia;
      if (repeat || small) {
        res.converged = true;
        lloyd.assign(label, dist, &near);  // same centres: the same labels, plus the near lists
        res.inertia = sum_in_order(dist);
        break;
      }
    }
    previous = label;
    previous_inertia = inertia;
    relocated_last = lloyd.update(label, dist);
    res.relocated += relocated_last;
    res.iterations = it + 1;
    check_interrupted();
    if (!timed && whole_iteration) {
      const double took =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - iteration_started).count();
      step = std::clamp<int64_t>(std::llround(took * static_cast<double>(progress_done) / progress_seconds), 1,
                                 int64_t{1} << 40);
      progress_total = progress_done + iterations * step;
      timed = true;
    }
    context.report(progress_done + (it + 1) * step, progress_total);
  }
  context.report(progress_total, progress_total);  // converged early: the iterations left are not run
  const int64_t k = lloyd.core().k();
  res.centroids = lloyd.core().centres().topRows(k);
  res.assignment = std::move(label);
  res.cluster_sizes.assign(sz(k), 0);
  for (int32_t l : res.assignment)
    if (l < k) ++res.cluster_sizes[sz(l)];
  res.representatives = lloyd.representatives(near, res.representative_scans);
  res.points_skipped = lloyd.core().points_skipped();
  return res;
}

KMeansResult run_lloyd(MatrixViewF x, const std::vector<int64_t>& fixed, const RowMatrixF& initial_centroids,
                       std::vector<int32_t> label, std::vector<double> dist, int64_t iterations, double tolerance,
                       const RunContext& context, int64_t progress_done, int64_t progress_total,
                       double progress_seconds) {
  const int64_t k = initial_centroids.rows();
  InMemoryLloyd lloyd(x, fixed, k);
  lloyd.core().centres().topRows(k) = initial_centroids;
  return run_lloyd_loop(lloyd, std::move(label), std::move(dist), iterations, tolerance, context, progress_done,
                        progress_total, progress_seconds);
}

}  // namespace kmeans_internal

KMeansResult kmeans_lloyd(MatrixViewF x, const RowMatrixF& initial_centroids, const std::vector<int64_t>& fixed,
                          int64_t iterations, double tolerance, const RunContext& context) {
  const int64_t k = initial_centroids.rows();
  check_input(x, fixed, k);
  SUBSET_CHECK(initial_centroids.cols() == x.cols(), "kmeans", "centroids have " << initial_centroids.cols()
                                                                    << " columns, the points " << x.cols());
  SUBSET_CHECK(iterations >= 0, "iterations", "must be >= 0");
  BlasSingleThread single;
  return run_lloyd(x, fixed, initial_centroids, {}, {}, iterations, tolerance, context, 0, iterations, 0.0);
}

}  // namespace subset::select
