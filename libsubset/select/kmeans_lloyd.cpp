// Lloyd iterations with sgemm-based assignment, the final assignment and the representatives.
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/linalg/product.h"
#include "libsubset/select/internal/kmeans.h"

namespace subset::select {
using namespace kmeans_internal;

namespace {

using geometry::sq_dist;

// Centroids whose distances Lloyd's bounded passes compute exactly (the ones that moved most):
// k / kMoversShare, at most kMovers.
constexpr int64_t kMovers = 64;
constexpr int64_t kMoversShare = 16;

// Per column (centroid), the T smallest (g, index) seen, g a GEMM distance.
struct NearestPoints {
  static constexpr int T = 16;
  int64_t k = 0;
  std::vector<float> g;
  std::vector<int32_t> idx;
  std::vector<int32_t> count;
  std::vector<float> thr;  // largest g held once full, +inf before

  void reset(int64_t cols) {
    k = cols;
    g.assign(sz(cols) * T, 0.0f);
    idx.assign(sz(cols) * T, 0);
    count.assign(sz(cols), 0);
    thr.assign(sz(cols), std::numeric_limits<float>::infinity());
  }
  // Keeps the T smallest (g, index) pairs. Within one list rows arrive in increasing index order,
  // so an equal g never displaces an earlier point.
  void insert(int64_t j, float v, int32_t i) {
    float* gj = g.data() + j * T;
    int32_t* ij = idx.data() + j * T;
    int32_t& c = count[sz(j)];
    if (c < T) {
      gj[c] = v;
      ij[c] = i;
      ++c;
      if (c == T) thr[sz(j)] = *std::max_element(gj, gj + T);
      return;
    }
    int worst = 0;  // the largest (g, index)
    for (int t = 1; t < T; ++t)
      if (gj[t] > gj[worst] || (gj[t] == gj[worst] && ij[t] > ij[worst])) worst = t;
    gj[worst] = v;
    ij[worst] = i;
    thr[sz(j)] = *std::max_element(gj, gj + T);
  }
  // Adds another list's pairs (from other rows): the result is the T smallest (g, index) pairs
  // of both, whichever rows each list saw.
  void merge(const NearestPoints& o) {
    for (int64_t j = 0; j < k; ++j) {
      std::vector<std::pair<float, int32_t>> all;
      for (int t = 0; t < count[sz(j)]; ++t) all.push_back({g[sz(j) * T + sz(t)], idx[sz(j) * T + sz(t)]});
      for (int t = 0; t < o.count[sz(j)]; ++t) all.push_back({o.g[sz(j) * T + sz(t)], o.idx[sz(j) * T + sz(t)]});
      std::sort(all.begin(), all.end());
      const int c = static_cast<int>(std::min<size_t>(all.size(), T));
      for (int t = 0; t < c; ++t) {
        g[sz(j) * T + sz(t)] = all[sz(t)].first;
        idx[sz(j) * T + sz(t)] = all[sz(t)].second;
      }
      count[sz(j)] = c;
      thr[sz(j)] = c == T ? all[sz(T - 1)].first : std::numeric_limits<float>::infinity();
    }
  }
};

// Row-wise argmin of cn[j] - 2 s[j] (lowest j on ties) and the second smallest value, in 16
// lanes so that it vectorises. Writes the argmin and the two values (without ||x||^2).
__attribute__((target_clones("avx512f", "avx2", "default"))) void argmin2_rows(const float* s, int64_t rows,
                                                                                int64_t cols, const float* cn,
                                                                                int32_t* label, float* best,
                                                                                float* second) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = s + r * cols;
    float b1[16], b2[16];
    int32_t bi[16];
    for (int l = 0; l < 16; ++l) {
      b1[l] = inf;
      b2[l] = inf;
      bi[l] = 0;
    }
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      for (int l = 0; l < 16; ++l) {
        const float v = cn[j + l] - 2.0f * row[j + l];
        const bool lt = v < b1[l];
        b2[l] = lt ? b1[l] : (v < b2[l] ? v : b2[l]);
        b1[l] = lt ? v : b1[l];
        bi[l] = lt ? static_cast<int32_t>(j + l) : bi[l];
      }
    }
    for (int l = 0; j + l < cols; ++l) {
      const float v = cn[j + l] - 2.0f * row[j + l];
      if (v < b1[l]) {
        b2[l] = b1[l];
        b1[l] = v;
        bi[l] = static_cast<int32_t>(j + l);
      } else if (v < b2[l]) {
        b2[l] = v;
      }
    }
    int w = 0;
    for (int l = 1; l < 16; ++l)
      if (b1[l] < b1[w] || (b1[l] == b1[w] && bi[l] < bi[w])) w = l;
    float sec = b2[w];
    for (int l = 0; l < 16; ++l)
      if (l != w) sec = std::min(sec, b1[l]);
    label[r] = bi[w];
    best[r] = b1[w];
    second[r] = sec;
  }
}

class Lloyd {
 public:
  Lloyd(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k)
      : x_(x.data()), n_(x.rows()), d_(x.cols()), k_(k), fixed_(fixed), is_fixed_(sz(n_), 0),
        centres_(k + static_cast<int64_t>(fixed.size()), x.cols()), xn_(sz(n_)), lb_(sz(n_), 0.0) {
    for (size_t s = 0; s < fixed.size(); ++s) {
      is_fixed_[sz(fixed[s])] = 1;
      std::copy_n(row(fixed[s]), d_, centres_.row(k + static_cast<int64_t>(s)).data());
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n_; ++i) xn_[sz(i)] = static_cast<float>(norm2(row(i), d_));
    kall_ = centres_.rows();
    block_ = std::clamp<int64_t>((int64_t{2} << 20) / std::max<int64_t>(kall_, 1), 64, 2048);
    block_ = std::min(block_, n_);
    cn_.resize(sz(kall_));
    drift_.assign(sz(kall_), 0.0);
    gemm_rel_ = static_cast<double>(d_ + 8) * static_cast<double>(FLT_EPSILON);
  }

  RowMatrixF& centres() { return centres_; }
  int64_t k() const { return k_; }
  const float* row(int64_t i) const { return x_ + i * d_; }
  int64_t points_skipped() const { return skipped_; }

  // The labels were set elsewhere (seeding, caller): no bounds known for them yet.
  void forget_bounds() { bounds_ = false; }

  // Nearest centre of every point (ties to the lower column) and its squared distance (geometry's
  // sq_dist: exact up to double rounding). With `near`, a full pass that also keeps the T nearest
  // non-fixed points of each centroid. Otherwise, after an update, points whose bounds prove their
  // centre unchanged skip the sgemm (Hamerly's bounds: a lower bound on the distance to every other
  // centre, lowered by how far the centres moved; the `kMovers` centres that moved most are
  // measured exactly instead, so that one far jump does not void every bound).
  //
  // sgemm runs on fixed blocks of rows, one block per OpenMP thread at a time, single-threaded:
  // every distance comes from the same calls at any thread count (a multi-threaded OpenBLAS sgemm
  // rounds differently depending on how it splits the work).
  void assign(std::vector<int32_t>& label, std::vector<double>& dist, NearestPoints* near) {
    label.resize(sz(n_));
    dist.resize(sz(n_));
    cn_max_ = 0.0f;
    for (int64_t j = 0; j < kall_; ++j) {
      cn_[sz(j)] = static_cast<float>(norm2(centres_.row(j).data(), d_));
      cn_max_ = std::max(cn_max_, cn_[sz(j)]);
    }
    std::vector<int64_t> rows;  // the points that need the full sgemm
    if (near || !bounds_) {
      rows.resize(sz(n_));
      std::iota(rows.begin(), rows.end(), 0);
    } else {
      rows = settle_by_bounds(label, dist);
    }
    skipped_ += n_ - static_cast<int64_t>(rows.size());
    full_rows(rows, label, dist, near);
    bounds_ = true;
  }

  // Moves every centroid to the mean of its points; empty ones to the farthest points first.
  // `label` may be changed (relocated points). Returns the number of relocations.
  int64_t update(std::vector<int32_t>& label, const std::vector<double>& dist) {
    std::vector<int64_t> count(sz(k_), 0);
    for (int32_t l : label)
      if (l < k_) ++count[sz(l)];
    int64_t empty = 0;
    for (int64_t c : count) empty += c == 0;
    const RowMatrixF before = centres_.topRows(k_);
    if (empty > 0) {
      std::vector<int64_t> order;
      order.reserve(sz(n_));
      for (int64_t i = 0; i < n_; ++i)
        if (!is_fixed_[sz(i)]) order.push_back(i);
      const auto far = [&](int64_t a, int64_t b) {
        return dist[sz(a)] > dist[sz(b)] || (dist[sz(a)] == dist[sz(b)] && a < b);
      };
      const auto take = std::min<int64_t>(empty, static_cast<int64_t>(order.size()));
      std::partial_sort(order.begin(), order.begin() + take, order.end(), far);
      int64_t next = 0;
      for (int64_t j = 0; j < k_ && next < take; ++j) {
        if (count[sz(j)] != 0) continue;
        const int64_t p = order[sz(next++)];
        const int32_t old = label[sz(p)];
        if (old < k_) --count[sz(old)];
        label[sz(p)] = static_cast<int32_t>(j);
        lb_[sz(p)] = 0.0;  // its bound was about another centre
        count[sz(j)] = 1;
      }
    }
    // members of each centroid in index order (counting sort)
    std::vector<int64_t> start(sz(k_) + 1, 0);
    for (int64_t j = 0; j < k_; ++j) start[sz(j) + 1] = start[sz(j)] + count[sz(j)];
    std::vector<int64_t> members(sz(start[sz(k_)]));
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n_; ++i) {
      const int32_t l = label[sz(i)];
      if (l < k_) members[sz(fill[sz(l)]++)] = i;
    }
#pragma omp parallel
    {
      std::vector<double> sum(sz(d_));
#pragma omp for schedule(dynamic, 4)
      for (int64_t j = 0; j < k_; ++j) {
        const int64_t b = start[sz(j)], e = start[sz(j) + 1];
        if (b == e) continue;  // no points: stays where it is
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t q = b; q < e; ++q) {
          const float* r = row(members[sz(q)]);
          for (int64_t t = 0; t < d_; ++t) sum[sz(t)] += static_cast<double>(r[t]);
        }
        const double inv = 1.0 / static_cast<double>(e - b);
        float* c = centres_.row(j).data();
        for (int64_t t = 0; t < d_; ++t) c[t] = static_cast<float>(sum[sz(t)] * inv);
      }
    }
    // how far each centroid moved (rounded up: the bounds subtract it)
    for (int64_t j = 0; j < k_; ++j)
      drift_[sz(j)] = std::sqrt(sq_dist(before.row(j).data(), centres_.row(j).data(), d_)) * (1.0 + 1e-6);
    return empty;
  }

  // The real point nearest each centroid, in centroid order, unique, never fixed (kmeans.h).
  std::vector<int64_t> representatives(const NearestPoints& near, int64_t& scans) const {
    std::vector<char> used(is_fixed_);
    int64_t eligible = 0;
    float max_xn = 0.0f;
    for (int64_t i = 0; i < n_; ++i)
      if (!is_fixed_[sz(i)]) {
        ++eligible;
        max_xn = std::max(max_xn, xn_[sz(i)]);
      }
    std::vector<int64_t> out;
    out.reserve(sz(k_));
    for (int64_t j = 0; j < k_; ++j) {
      const float* c = centres_.row(j).data();
      const int cnt = near.count[sz(j)];
      double best = kInf;
      int64_t arg = -1;
      for (int t = 0; t < cnt; ++t) {
        const int64_t i = near.idx[sz(j) * NearestPoints::T + sz(t)];
        if (used[sz(i)]) continue;
        const double e = sq_dist(row(i), c, d_);
        if (e < best || (e == best && i < arg)) {
          best = e;
          arg = i;
        }
      }
      // Complete when the list holds every eligible point; otherwise certified when no point
      // outside it can be as close: their GEMM distance is >= thr, and GEMM distances are within
      // gemm_rel_ * (|x|^2 + |c|^2) of the real ones.
      bool ok = arg >= 0;
      if (ok && cnt == NearestPoints::T && eligible > NearestPoints::T) {
        const double bound = gemm_rel_ * (static_cast<double>(max_xn) + static_cast<double>(cn_[sz(j)])) * 1.001;
        ok = best * (1.0 + 4.0 * geometry::kDistRelError) < static_cast<double>(near.thr[sz(j)]) - bound;
      }
      if (!ok) {
        ++scans;
        arg = nearest_unused(c, used);
      }
      used[sz(arg)] = 1;
      out.push_back(arg);
    }
    return out;
  }

 private:
  static double norm2(const float* v, int64_t d) {
    double s = 0.0;
    for (int64_t t = 0; t < d; ++t) s += static_cast<double>(v[t]) * static_cast<double>(v[t]);
    return s;
  }

  // Bound on |GEMM distance - real distance| for point i against any centre.
  double gemm_err(int64_t i) const {
    return gemm_rel_ * (static_cast<double>(xn_[sz(i)]) + static_cast<double>(cn_max_)) * 1.001;
  }

  // After an update: keeps the label of every point whose bounds prove it, sets dist for those,
  // and returns the others (in index order).
  std::vector<int64_t> settle_by_bounds(const std::vector<int32_t>& label, std::vector<double>& dist) {
    // the kMovers centroids that moved most (ties to the lower index) are measured exactly;
    // every other centre moved at most `stay`
    std::vector<int64_t> order(sz(k_));
    std::iota(order.begin(), order.end(), 0);
    const auto h = std::min<int64_t>({kMovers, k_, std::max<int64_t>(1, k_ / kMoversShare)});
    std::partial_sort(order.begin(), order.begin() + h, order.end(), [&](int64_t a, int64_t b) {
      return drift_[sz(a)] > drift_[sz(b)] || (drift_[sz(a)] == drift_[sz(b)] && a < b);
    });
    double stay = 0.0;  // the largest move among the others (partial_sort leaves them unordered)
    for (int64_t q = h; q < k_; ++q) stay = std::max(stay, drift_[sz(order[sz(q)])]);
    std::vector<int32_t> movers(order.begin(), order.begin() + h);
    RowMatrixF mc(h, d_);
    std::vector<float> mcn(sz(h));
    for (int64_t m = 0; m < h; ++m) {
      mc.row(m) = centres_.row(movers[sz(m)]);
      mcn[sz(m)] = cn_[sz(movers[sz(m)])];
    }
    std::vector<uint8_t> settled(sz(n_), 0);
    const int64_t blocks = (n_ + block_ - 1) / block_;
    const int threads = std::max(1, omp_get_max_threads());
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> s(sz(block_ * h));
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t b0 = b * block_;
        const int64_t nb = std::min(block_, n_ - b0);
        linalg::gemm_nt(row(b0), nb, mc.data(), h, d_, s.data());
        for (int64_t r = 0; r < nb; ++r) {
          const int64_t i = b0 + r;
          const int32_t a = label[sz(i)];
          const double e = sq_dist(row(i), centres_.row(a).data(), d_);
          dist[sz(i)] = e;
          // lower bound on the distance to every centre but a
          double lower = lb_[sz(i)] - stay;
          const double err = gemm_err(i);
          for (int64_t m = 0; m < h && lower > 0.0; ++m) {
            if (movers[sz(m)] == a) continue;
            const double g = static_cast<double>(xn_[sz(i)]) + static_cast<double>(mcn[sz(m)]) -
                             2.0 * static_cast<double>(s[sz(r * h + m)]);
            lower = std::min(lower, std::sqrt(std::max(0.0, g - err)));
          }
          // sq_dist is within kDistRelError of the real squared distance
          if (std::sqrt(e * (1.0 + geometry::kDistRelError)) < lower) {
            settled[sz(i)] = 1;
            lb_[sz(i)] = lower;
          }
        }
      }
    }
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < n_; ++i)
      if (!settled[sz(i)]) rows.push_back(i);
    return rows;
  }

  // The full sgemm for the given points (in index order, blocked in that order): label, dist and
  // the bound on the distance to every other centre; with `near`, the nearest-point lists.
  void full_rows(const std::vector<int64_t>& rows, std::vector<int32_t>& label, std::vector<double>& dist,
                 NearestPoints* near) {
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<NearestPoints> local(near ? sz(threads) : 0);
    for (auto& l : local) l.reset(k_);
    const auto count = static_cast<int64_t>(rows.size());
    const int64_t blocks = (count + block_ - 1) / block_;
    const bool contiguous = count == n_;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      std::vector<float> s(sz(block_ * kall_));
      std::vector<float> gathered(contiguous ? 0 : sz(block_ * d_));
      std::vector<int32_t> lab(sz(block_));
      std::vector<float> best(sz(block_)), second(sz(block_));
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t r0 = b * block_;
        const int64_t nb = std::min(block_, count - r0);
        const float* xb = row(rows[sz(r0)]);
        if (!contiguous) {
          for (int64_t r = 0; r < nb; ++r) std::copy_n(row(rows[sz(r0 + r)]), d_, gathered.data() + r * d_);
          xb = gathered.data();
        }
        // S (nb x K, row-major) = X_b C^T, i.e. column-major K x nb = C X_b^T.
        linalg::gemm_nt(xb, nb, centres_.data(), kall_, d_, s.data());
        argmin2_rows(s.data(), nb, kall_, cn_.data(), lab.data(), best.data(), second.data());
        for (int64_t r = 0; r < nb; ++r) {
          const int64_t i = rows[sz(r0 + r)];
          label[sz(i)] = lab[sz(r)];
          dist[sz(i)] = sq_dist(row(i), centres_.row(lab[sz(r)]).data(), d_);
          const double g2 = static_cast<double>(xn_[sz(i)]) + static_cast<double>(second[sz(r)]);
          lb_[sz(i)] = std::sqrt(std::max(0.0, g2 - gemm_err(i)));
        }
        if (near) collect(local[sz(t)], s.data(), r0, nb);  // contiguous: r0 is the first index
      }
    }
    if (near) {
      near->reset(k_);
      for (auto& l : local) near->merge(l);
    }
    check_interrupted();
  }

  void collect(NearestPoints& near, const float* s, int64_t b0, int64_t nb) const {
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t i = b0 + r;
      if (is_fixed_[sz(i)]) continue;
      const float* srow = s + r * kall_;
      const float xi = xn_[sz(i)];
      for (int64_t j = 0; j < k_; ++j) {
        const float g = xi + (cn_[sz(j)] - 2.0f * srow[j]);
        if (g < near.thr[sz(j)]) near.insert(j, g, static_cast<int32_t>(i));
      }
    }
  }

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
  int64_t n_, d_, k_, kall_ = 0, block_ = 0;
  std::vector<int64_t> fixed_;
  std::vector<char> is_fixed_;
  RowMatrixF centres_;  // k centroids, then the fixed points
  std::vector<float> xn_;
  std::vector<float> cn_;
  float cn_max_ = 0.0f;
  double gemm_rel_ = 0.0;
  std::vector<double> lb_;     // per point: lower bound on the distance to every centre but its own
  std::vector<double> drift_;  // per centre: how far the last update moved it (upper bound)
  bool bounds_ = false;        // lb_ and drift_ hold for the current labels
  int64_t skipped_ = 0;
};

double sum_in_order(const std::vector<double>& v) {
  double s = 0.0;
  for (double f : v) s += f;
  return s;
}

// Lloyd from lloyd.centres(); `label`/`dist`, when not empty, are the exact assignment to them.
KMeansResult run_lloyd(Lloyd& lloyd, std::vector<int32_t> label, std::vector<double> dist, int64_t iterations,
                       double tolerance, const RunContext& context, int64_t progress_done, int64_t progress_total,
                       double progress_seconds) {
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
      lloyd.forget_bounds();
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
  const int64_t k = lloyd.k();
  res.centroids = lloyd.centres().topRows(k);
  res.assignment = std::move(label);
  res.cluster_sizes.assign(sz(k), 0);
  for (int32_t l : res.assignment)
    if (l < k) ++res.cluster_sizes[sz(l)];
  res.representatives = lloyd.representatives(near, res.representative_scans);
  res.points_skipped = lloyd.points_skipped();
  return res;
}

}  // namespace

namespace kmeans_internal {

KMeansResult run_lloyd(MatrixViewF x, const std::vector<int64_t>& fixed, const RowMatrixF& initial_centroids,
                       std::vector<int32_t> label, std::vector<double> dist, int64_t iterations, double tolerance,
                       const RunContext& context, int64_t progress_done, int64_t progress_total,
                       double progress_seconds) {
  const int64_t k = initial_centroids.rows();
  Lloyd lloyd(x, fixed, k);
  lloyd.centres().topRows(k) = initial_centroids;
  return run_lloyd(lloyd, std::move(label), std::move(dist), iterations, tolerance, context, progress_done,
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
