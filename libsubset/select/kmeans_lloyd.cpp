// LloydCore (internal/kmeans_lloyd.h): the per-block arithmetic of Lloyd's sgemm-based assignment,
// the sums, the updates and the nearest points that the in-memory and the streamed passes share.
#include "libsubset/select/internal/kmeans_lloyd.h"

#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>
#include <queue>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/product.h"
#include "libsubset/select/internal/geometry.h"

namespace subset::select {
using namespace kmeans_internal;

namespace {

using geometry::sq_dist;

// Centroids whose distances Lloyd's bounded passes compute exactly (the ones that moved most):
// k / kMoversShare, at most kMovers.
constexpr int64_t kMovers = 64;
constexpr int64_t kMoversShare = 16;

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

double norm2(const float* v, int64_t d) {
  double s = 0.0;
  for (int64_t t = 0; t < d; ++t) s += static_cast<double>(v[t]) * static_cast<double>(v[t]);
  return s;
}

}  // namespace

namespace kmeans_internal {

// ---------------------------------------------------------------------------------------------
// NearestPoints

void NearestPoints::reset(int64_t cols, bool with_exact) {
  k = cols;
  exact = with_exact;
  g.assign(sz(cols) * T, 0.0f);
  idx.assign(sz(cols) * T, 0);
  e.assign(with_exact ? sz(cols) * T : 0, 0.0);
  count.assign(sz(cols), 0);
  thr.assign(sz(cols), std::numeric_limits<float>::infinity());
}

int NearestPoints::insert(int64_t j, float v, int32_t i) {
  float* gj = g.data() + j * T;
  int32_t* ij = idx.data() + j * T;
  int32_t& c = count[sz(j)];
  if (c < T) {
    const int slot = c;
    gj[c] = v;
    ij[c] = i;
    ++c;
    if (c == T) thr[sz(j)] = *std::max_element(gj, gj + T);
    return slot;
  }
  int worst = 0;  // the largest (g, index)
  for (int t = 1; t < T; ++t)
    if (gj[t] > gj[worst] || (gj[t] == gj[worst] && ij[t] > ij[worst])) worst = t;
  gj[worst] = v;
  ij[worst] = i;
  thr[sz(j)] = *std::max_element(gj, gj + T);
  return worst;
}

void NearestPoints::merge(const NearestPoints& o) {
  struct Entry {
    float g;
    int32_t idx;
    double e;
  };
  const auto before = [](const Entry& a, const Entry& b) { return a.g < b.g || (a.g == b.g && a.idx < b.idx); };
  std::vector<Entry> all;
  for (int64_t j = 0; j < k; ++j) {
    all.clear();
    for (int t = 0; t < count[sz(j)]; ++t) {
      const size_t s = sz(j) * T + sz(t);
      all.push_back({g[s], idx[s], exact ? e[s] : 0.0});
    }
    for (int t = 0; t < o.count[sz(j)]; ++t) {
      const size_t s = sz(j) * T + sz(t);
      all.push_back({o.g[s], o.idx[s], exact ? o.e[s] : 0.0});
    }
    std::sort(all.begin(), all.end(), before);
    const int c = static_cast<int>(std::min<size_t>(all.size(), T));
    for (int t = 0; t < c; ++t) {
      const size_t s = sz(j) * T + sz(t);
      g[s] = all[sz(t)].g;
      idx[s] = all[sz(t)].idx;
      if (exact) e[s] = all[sz(t)].e;
    }
    count[sz(j)] = c;
    thr[sz(j)] = c == T ? all[sz(T - 1)].g : std::numeric_limits<float>::infinity();
  }
}

// ---------------------------------------------------------------------------------------------
// LloydCore

LloydCore::LloydCore(int64_t n, int64_t d, const std::vector<int64_t>& fixed, int64_t k)
    : n_(n), d_(d), k_(k), kall_(k + static_cast<int64_t>(fixed.size())), is_fixed_(sz(n), 0),
      centres_(k + static_cast<int64_t>(fixed.size()), d), xn_(sz(n), 0.0f), lb_(sz(n), 0.0) {
  for (int64_t f : fixed) is_fixed_[sz(f)] = 1;
  eligible_ = n_ - static_cast<int64_t>(fixed.size());
  block_ = std::clamp<int64_t>((int64_t{2} << 20) / std::max<int64_t>(kall_, 1), 64, 2048);
  block_ = std::min(block_, n_);
  cn_.resize(sz(kall_));
  drift_.assign(sz(kall_), 0.0);
  gemm_rel_ = static_cast<double>(d_ + 8) * static_cast<double>(FLT_EPSILON);
}

void LloydCore::set_norms(int64_t first, const float* rows, int64_t count) {
#pragma omp parallel for schedule(static) if (count > 4096)
  for (int64_t r = 0; r < count; ++r) xn_[sz(first + r)] = static_cast<float>(norm2(rows + r * d_, d_));
}

// Bound on |GEMM distance - real distance| for point i against any centre.
double LloydCore::gemm_err(int64_t i) const {
  return gemm_rel_ * (static_cast<double>(xn_[sz(i)]) + static_cast<double>(cn_max_)) * 1.001;
}

void LloydCore::begin_assign(bool with_near) {
  cn_max_ = 0.0f;
  for (int64_t j = 0; j < kall_; ++j) {
    cn_[sz(j)] = static_cast<float>(norm2(centres_.row(j).data(), d_));
    cn_max_ = std::max(cn_max_, cn_[sz(j)]);
  }
  bounded_ = !with_near && bounds_;
  if (!bounded_) return;
  // the kMovers centroids that moved most (ties to the lower index) are measured exactly; every
  // other centre moved at most `stay`
  std::vector<int64_t> order(sz(k_));
  std::iota(order.begin(), order.end(), 0);
  const auto h = std::min<int64_t>({kMovers, k_, std::max<int64_t>(1, k_ / kMoversShare)});
  std::partial_sort(order.begin(), order.begin() + h, order.end(), [&](int64_t a, int64_t b) {
    return drift_[sz(a)] > drift_[sz(b)] || (drift_[sz(a)] == drift_[sz(b)] && a < b);
  });
  stay_ = 0.0;  // the largest move among the others (partial_sort leaves them unordered)
  for (int64_t q = h; q < k_; ++q) stay_ = std::max(stay_, drift_[sz(order[sz(q)])]);
  movers_.assign(order.begin(), order.begin() + h);
  mc_.resize(h, d_);
  mcn_.resize(sz(h));
  for (int64_t m = 0; m < h; ++m) {
    mc_.row(m) = centres_.row(movers_[sz(m)]);
    mcn_[sz(m)] = cn_[sz(movers_[sz(m)])];
  }
}

int64_t LloydCore::assign_block(int64_t b, const float* rows, std::vector<int32_t>& label, std::vector<double>& dist,
                                NearestPoints* near, Scratch& w) {
  const int64_t b0 = b * block_;
  const int64_t nb = std::min(block_, n_ - b0);
  const int64_t h = static_cast<int64_t>(movers_.size());
  w.s.resize(sz(block_ * std::max(kall_, h)));
  w.rows.clear();
  int64_t settled = 0;
  if (bounded_) {
    // After an update: keeps the label of every point whose bounds prove it (setting its dist);
    // the others go through the sgemm below.
    linalg::gemm_nt(rows, nb, mc_.data(), h, d_, w.s.data());
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t i = b0 + r;
      const int32_t a = label[sz(i)];
      const double e = sq_dist(rows + r * d_, centres_.row(a).data(), d_);
      dist[sz(i)] = e;
      // lower bound on the distance to every centre but a
      double lower = lb_[sz(i)] - stay_;
      const double err = gemm_err(i);
      for (int64_t m = 0; m < h && lower > 0.0; ++m) {
        if (movers_[sz(m)] == a) continue;
        const double g = static_cast<double>(xn_[sz(i)]) + static_cast<double>(mcn_[sz(m)]) -
                         2.0 * static_cast<double>(w.s[sz(r * h + m)]);
        lower = std::min(lower, std::sqrt(std::max(0.0, g - err)));
      }
      // sq_dist is within kDistRelError of the real squared distance
      if (std::sqrt(e * (1.0 + geometry::kDistRelError)) < lower) {
        lb_[sz(i)] = lower;
        ++settled;
      } else {
        w.rows.push_back(r);
      }
    }
  } else {
    w.rows.resize(sz(nb));
    std::iota(w.rows.begin(), w.rows.end(), 0);
  }
  // The full sgemm for the others, in index order: label, dist and the bound on the distance to
  // every other centre; with `near`, the nearest-point lists.
  const auto m = static_cast<int64_t>(w.rows.size());
  if (m == 0) return settled;
  const float* xb = rows;
  if (m < nb) {
    w.gathered.resize(sz(block_ * d_));
    for (int64_t q = 0; q < m; ++q) std::copy_n(rows + w.rows[sz(q)] * d_, d_, w.gathered.data() + q * d_);
    xb = w.gathered.data();
  }
  w.lab.resize(sz(block_));
  w.best.resize(sz(block_));
  w.second.resize(sz(block_));
  // S (m x K, row-major) = X_b C^T, i.e. column-major K x m = C X_b^T.
  linalg::gemm_nt(xb, m, centres_.data(), kall_, d_, w.s.data());
  argmin2_rows(w.s.data(), m, kall_, cn_.data(), w.lab.data(), w.best.data(), w.second.data());
  for (int64_t q = 0; q < m; ++q) {
    const int64_t i = b0 + w.rows[sz(q)];
    label[sz(i)] = w.lab[sz(q)];
    dist[sz(i)] = sq_dist(xb + q * d_, centres_.row(w.lab[sz(q)]).data(), d_);
    const double g2 = static_cast<double>(xn_[sz(i)]) + static_cast<double>(w.second[sz(q)]);
    lb_[sz(i)] = std::sqrt(std::max(0.0, g2 - gemm_err(i)));
  }
  if (near) collect(*near, w.s.data(), rows, b0, nb);  // with near every row went through: xb == rows
  return settled;
}

void LloydCore::end_assign(int64_t settled) {
  skipped_ += settled;
  bounds_ = true;
  max_xn_eligible_ = 0.0f;
  for (int64_t i = 0; i < n_; ++i)
    if (!is_fixed_[sz(i)]) max_xn_eligible_ = std::max(max_xn_eligible_, xn_[sz(i)]);
}

void LloydCore::collect(NearestPoints& near, const float* s, const float* rows, int64_t b0, int64_t nb) const {
  for (int64_t r = 0; r < nb; ++r) {
    const int64_t i = b0 + r;
    if (is_fixed_[sz(i)]) continue;
    const float* srow = s + r * kall_;
    const float xi = xn_[sz(i)];
    for (int64_t j = 0; j < k_; ++j) {
      const float g = xi + (cn_[sz(j)] - 2.0f * srow[j]);
      if (g < near.thr[sz(j)]) {
        const int slot = near.insert(j, g, static_cast<int32_t>(i));
        if (near.exact && slot >= 0)
          near.e[sz(j) * NearestPoints::T + sz(slot)] = sq_dist(rows + r * d_, centres_.row(j).data(), d_);
      }
    }
  }
}

int64_t LloydCore::relocate(std::vector<int32_t>& label, const std::vector<double>& dist, std::vector<int64_t>& count,
                            std::vector<std::pair<int64_t, int32_t>>* moved) {
  count.assign(sz(k_), 0);
  for (int32_t l : label)
    if (l < k_) ++count[sz(l)];
  int64_t empty = 0;
  for (int64_t c : count) empty += c == 0;
  if (empty == 0) return 0;
  // the `take` farthest non-fixed points, farthest first: a heap whose top is the nearest kept
  const auto far = [&](int64_t a, int64_t b) {
    return dist[sz(a)] > dist[sz(b)] || (dist[sz(a)] == dist[sz(b)] && a < b);
  };
  const auto take = std::min<int64_t>(empty, eligible_);
  std::priority_queue<int64_t, std::vector<int64_t>, decltype(far)> kept(far);
  for (int64_t i = 0; i < n_; ++i) {
    if (is_fixed_[sz(i)]) continue;
    if (static_cast<int64_t>(kept.size()) < take) {
      kept.push(i);
    } else if (far(i, kept.top())) {
      kept.pop();
      kept.push(i);
    }
  }
  std::vector<int64_t> order(kept.size());
  for (size_t q = order.size(); q-- > 0;) {
    order[q] = kept.top();
    kept.pop();
  }
  int64_t next = 0;
  for (int64_t j = 0; j < k_ && next < take; ++j) {
    if (count[sz(j)] != 0) continue;
    const int64_t p = order[sz(next++)];
    const int32_t old = label[sz(p)];
    if (old < k_) --count[sz(old)];
    label[sz(p)] = static_cast<int32_t>(j);
    lb_[sz(p)] = 0.0;  // its bound was about another centre
    count[sz(j)] = 1;
    if (moved) moved->push_back({p, old});
  }
  return empty;
}

void LloydCore::set_mean(int64_t j, const double* sum, int64_t count) {
  const double inv = 1.0 / static_cast<double>(count);
  float* c = centres_.row(j).data();
  for (int64_t t = 0; t < d_; ++t) c[t] = static_cast<float>(sum[t] * inv);
}

void LloydCore::finish_update(const RowMatrixF& before) {
  // how far each centroid moved (rounded up: the bounds subtract it)
  for (int64_t j = 0; j < k_; ++j)
    drift_[sz(j)] = std::sqrt(sq_dist(before.row(j).data(), centres_.row(j).data(), d_)) * (1.0 + 1e-6);
}

LloydCore::ListPick LloydCore::pick_from_list(int64_t j, const NearestPoints& near, const std::vector<char>& used,
                                              const std::function<double(int64_t, int)>& exact) const {
  const int cnt = near.count[sz(j)];
  double best = kInf;
  int64_t arg = -1;
  for (int t = 0; t < cnt; ++t) {
    const int64_t i = near.idx[sz(j) * NearestPoints::T + sz(t)];
    if (used[sz(i)]) continue;
    const double e = exact(j, t);
    if (e < best || (e == best && i < arg)) {
      best = e;
      arg = i;
    }
  }
  // Complete when the list holds every eligible point; otherwise certified when no point outside
  // it can be as close: their GEMM distance is >= thr, and GEMM distances are within
  // gemm_rel_ * (|x|^2 + |c|^2) of the real ones.
  ListPick out;
  out.arg = arg;
  out.ok = arg >= 0;
  if (out.ok && cnt == NearestPoints::T && eligible_ > NearestPoints::T) {
    const double bound =
        gemm_rel_ * (static_cast<double>(max_xn_eligible_) + static_cast<double>(cn_[sz(j)])) * 1.001;
    out.ok = best * (1.0 + 4.0 * geometry::kDistRelError) < static_cast<double>(near.thr[sz(j)]) - bound;
  }
  return out;
}

std::vector<int64_t> LloydCore::representatives(const NearestPoints& near,
                                                const std::function<double(int64_t, int)>& exact,
                                                const std::function<int64_t(int64_t, const std::vector<char>&)>& scan,
                                                int64_t& scans) const {
  std::vector<char> used(is_fixed_);
  std::vector<int64_t> out;
  out.reserve(sz(k_));
  for (int64_t j = 0; j < k_; ++j) {
    ListPick p = pick_from_list(j, near, used, exact);
    if (!p.ok) {
      ++scans;
      p.arg = scan(j, used);
    }
    used[sz(p.arg)] = 1;
    out.push_back(p.arg);
  }
  return out;
}

}  // namespace kmeans_internal

}  // namespace subset::select
