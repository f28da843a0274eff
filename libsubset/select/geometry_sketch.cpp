// The PCA sketch of geometry.h (build_sketch: a randomized range finder) and its distance bounds.
#include "libsubset/select/internal/geometry_kernels.h"

#include "libsubset/select/internal/geometry.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/linalg/range_finder.h"

namespace subset::select::geometry {

namespace {
// ||a - b||^2 in double over p coordinates, in 8 independent lanes (vectorisable; the order only
// moves the result by a few double roundings, which the bounds' 1e-12 margin covers).
template <typename B>
inline double coord_sq_dist(const float* a, const B* b, int64_t p) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= p; i += 8)
    for (int l = 0; l < 8; ++l) {
      const double t = static_cast<double>(a[i + l]) - static_cast<double>(b[i + l]);
      lane[l] += t * t;
    }
  for (int l = 0; i + l < p; ++l) {
    const double t = static_cast<double>(a[i + l]) - static_cast<double>(b[i + l]);
    lane[l] += t * t;
  }
  return ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
}
}  // namespace

double Sketch::lower_bound(const float* ya, double ea, const float* yb, double eb) const {
  const double l = (std::sqrt(coord_sq_dist(ya, yb, p)) * (1.0 - 1e-12) - ea - eb) * inv_sigma;
  return l > 0.0 ? l : 0.0;
}

namespace {

// out[r][i] = sum_j (x[r][j] - v[j]) * P[j][i] for `rows` rows, P dim x p row-major. Any order of
// float multiply-adds: the error bound used for the sketch (gamma_{dim+2}) holds for all of them.
SUBSET_ALWAYS_INLINE void project_rows_body(const float* x, int64_t rows, int64_t dim, const float* v,
                                            const float* basis, int64_t p, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    float* o = out + r * p;
    for (int64_t i = 0; i < p; ++i) o[i] = 0.0f;
    const float* xr = x + r * dim;
    for (int64_t j = 0; j < dim; ++j) {
      const float z = xr[j] - v[j];
      const float* pj = basis + j * p;
      for (int64_t i = 0; i < p; ++i) o[i] += z * pj[i];
    }
  }
}

void project_rows_generic(const float* x, int64_t rows, int64_t dim, const float* v, const float* basis, int64_t p,
                          float* out) {
  project_rows_body(x, rows, dim, v, basis, p, out);
}

#ifdef SUBSET_GEOMETRY_X86
// Four rows and 16 outputs at a time (four independent FMA chains); p must be a multiple of 16.
__attribute__((target("avx512f"))) void project_rows_avx512(const float* x, int64_t rows, int64_t dim, const float* v,
                                                            const float* basis, int64_t p, float* out) {
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    const float* x0 = x + r * dim;
    const float* x1 = x0 + dim;
    const float* x2 = x1 + dim;
    const float* x3 = x2 + dim;
    for (int64_t c = 0; c < p; c += 16) {
      __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
      for (int64_t j = 0; j < dim; ++j) {
        const __m512 pj = _mm512_loadu_ps(basis + j * p + c);
        const float vj = v[j];
        a0 = _mm512_fmadd_ps(_mm512_set1_ps(x0[j] - vj), pj, a0);
        a1 = _mm512_fmadd_ps(_mm512_set1_ps(x1[j] - vj), pj, a1);
        a2 = _mm512_fmadd_ps(_mm512_set1_ps(x2[j] - vj), pj, a2);
        a3 = _mm512_fmadd_ps(_mm512_set1_ps(x3[j] - vj), pj, a3);
      }
      _mm512_storeu_ps(out + r * p + c, a0);
      _mm512_storeu_ps(out + (r + 1) * p + c, a1);
      _mm512_storeu_ps(out + (r + 2) * p + c, a2);
      _mm512_storeu_ps(out + (r + 3) * p + c, a3);
    }
  }
  if (r < rows) project_rows_body(x + r * dim, rows - r, dim, v, basis, p, out + r * p);
}
#endif

void project_rows(const float* x, int64_t rows, int64_t dim, const float* v, const float* basis, int64_t p,
                  float* out) {
#ifdef SUBSET_GEOMETRY_X86
  if (p % 16 == 0 && detail::use_avx512()) return project_rows_avx512(x, rows, dim, v, basis, p, out);
#endif
  project_rows_generic(x, rows, dim, v, basis, p, out);
}

}  // namespace

namespace {

SUBSET_ALWAYS_INLINE double coord_sq_dist_body(const float* a, const float* b, int64_t p) {
  return coord_sq_dist(a, b, p);
}

void sq_dists_generic(const float* coords, const int64_t* idx, size_t count, int64_t p, const float* yq, double* out) {
  for (size_t u = 0; u < count; ++u)
    out[u] = coord_sq_dist_body(coords + (idx ? idx[u] : static_cast<int64_t>(u)) * p, yq, p);
}

#ifdef SUBSET_GEOMETRY_X86
// p a multiple of 8: each group of 8 coordinates widened to double, differences squared and summed.
__attribute__((target("avx512f"))) void sq_dists_avx512(const float* coords, const int64_t* idx, size_t count,
                                                        int64_t p, const float* yq, double* out) {
  const auto all = static_cast<__mmask8>(0xFF);
  for (size_t u = 0; u < count; ++u) {
    const float* y = coords + (idx ? idx[u] : static_cast<int64_t>(u)) * p;
    __m512d acc = _mm512_setzero_pd();
    for (int64_t i = 0; i < p; i += 8) {
      const __m512d t = _mm512_sub_pd(_mm512_maskz_cvtps_pd(all, _mm256_loadu_ps(y + i)),
                                      _mm512_maskz_cvtps_pd(all, _mm256_loadu_ps(yq + i)));
      acc = _mm512_fmadd_pd(t, t, acc);
    }
    out[u] = _mm512_reduce_add_pd(acc);
  }
}
#endif

}  // namespace

void Sketch::sq_dists(const int64_t* idx, size_t count, const float* yq, double* out) const {
#ifdef SUBSET_GEOMETRY_X86
  if (p % 8 == 0 && detail::use_avx512()) return sq_dists_avx512(coords.data(), idx, count, p, yq, out);
#endif
  sq_dists_generic(coords.data(), idx, count, p, yq, out);
}

void Sketch::sq_dists_rows(const float* rows, size_t count, const float* yq, double* out) const {
#ifdef SUBSET_GEOMETRY_X86
  if (p % 8 == 0 && detail::use_avx512()) return sq_dists_avx512(rows, nullptr, count, p, yq, out);
#endif
  sq_dists_generic(rows, nullptr, count, p, yq, out);
}

namespace {

// Step 2 of build_sketch: the dim x p basis (row-major) of the top-p principal directions of the
// m x dim subsample `sub` centred at v.
std::vector<float> principal_basis(const std::vector<float>& sub, int64_t m, int64_t dim, const float* v, int64_t p) {
  using MatD = Eigen::MatrixXd;
  // 2. Top-p principal directions of the subsample by subspace iteration, then a Rayleigh-Ritz
  //    step that orders them by decreasing variance (so that partial sums of the sketch
  //    distance grow fast). A few rounds suffice: only the bounds' tightness depends on them.
  Rng rng(0x5CE7C4u);
  MatD start(dim, p);
  for (int64_t j = 0; j < dim; ++j)
    for (int64_t i = 0; i < p; ++i) start(j, i) = rng.normal();
  std::vector<float> qf(static_cast<size_t>(dim * p)), w(static_cast<size_t>(m * p)), z(static_cast<size_t>(dim * p));
  auto to_float = [&](const MatD& a) {
    for (int64_t j = 0; j < dim; ++j)
      for (int64_t i = 0; i < p; ++i) qf[static_cast<size_t>(j * p + i)] = static_cast<float>(a(j, i));
  };
  auto sub_times_q = [&] {  // w = (sub - v) qf
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < m; r += 64)
      project_rows(sub.data() + r * dim, std::min<int64_t>(64, m - r), dim, v, qf.data(), p, w.data() + r * p);
  };
  // (A^T A) q for A = sub - v: w = A qf, then z = A^T w, by blocks of output rows.
  auto gram_times = [&](const MatD& basis) {
    to_float(basis);
    sub_times_q();
#pragma omp parallel for schedule(static)
    for (int64_t j0 = 0; j0 < dim; j0 += 32) {
      const int64_t j1 = std::min(dim, j0 + 32);
      std::fill(z.begin() + j0 * p, z.begin() + j1 * p, 0.0f);
      for (int64_t r = 0; r < m; ++r) {
        const float* wr = w.data() + r * p;
        for (int64_t j = j0; j < j1; ++j) {
          const float a = sub[static_cast<size_t>(r * dim + j)] - v[j];
          float* zj = z.data() + j * p;
          for (int64_t i = 0; i < p; ++i) zj[i] += a * wr[i];
        }
      }
    }
    MatD zd(dim, p);
    for (int64_t j = 0; j < dim; ++j)
      for (int64_t i = 0; i < p; ++i) zd(j, i) = z[static_cast<size_t>(j * p + i)];
    return zd;
  };
  const MatD q = linalg::randomized_range(gram_times, start, 4, false);
  to_float(q);
  sub_times_q();
  MatD gram = MatD::Zero(p, p);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t a = 0; a < p; ++a)
      for (int64_t b = 0; b <= a; ++b)
        gram(a, b) += static_cast<double>(w[static_cast<size_t>(r * p + a)]) * w[static_cast<size_t>(r * p + b)];
  const MatD ordered = linalg::rayleigh_ritz(q, gram).vectors;  // by decreasing variance
  std::vector<float> basis(static_cast<size_t>(dim * p));
  for (int64_t j = 0; j < dim; ++j)
    for (int64_t i = 0; i < p; ++i) basis[static_cast<size_t>(j * p + i)] = static_cast<float>(ordered(j, i));
  return basis;

}

}  // namespace

Sketch build_sketch(const float* x, int64_t n, int64_t dim, int64_t dims) {
  Sketch sk;
  if (dims <= 0 || n <= 0 || dim <= 0) return sk;
  const int64_t p = std::min(dims, dim);
  sk.n = n;
  sk.dim = dim;
  sk.p = p;
  using MatD = Eigen::MatrixXd;

  // 1. Subsample (evenly spaced rows) and its mean v.
  const int64_t m = std::min<int64_t>(n, 2048);
  std::vector<float> sub(static_cast<size_t>(m * dim));
  std::vector<double> mean(static_cast<size_t>(dim), 0.0);
  for (int64_t r = 0; r < m; ++r) {
    const float* row = x + ((r * n) / m) * dim;
    std::copy(row, row + dim, sub.begin() + r * dim);
    for (int64_t j = 0; j < dim; ++j) mean[static_cast<size_t>(j)] += row[j];
  }
  sk.center.resize(static_cast<size_t>(dim));
  for (int64_t j = 0; j < dim; ++j)
    sk.center[static_cast<size_t>(j)] = static_cast<float>(mean[static_cast<size_t>(j)] / m);
  const float* v = sk.center.data();

  sk.basis = principal_basis(sub, m, dim, v, p);

  // 3. sigma >= ||P||_2: ||P||_2^2 = lambda_max(P^T P) <= 1 + ||P^T P - I||_F (P^T P in double,
  //    whose few roundings the added 1e-9 covers).
  MatD g = MatD::Zero(p, p);
  for (int64_t j = 0; j < dim; ++j)
    for (int64_t a = 0; a < p; ++a)
      for (int64_t b = 0; b < p; ++b)
        g(a, b) += static_cast<double>(sk.basis[static_cast<size_t>(j * p + a)]) *
                   static_cast<double>(sk.basis[static_cast<size_t>(j * p + b)]);
  const double sigma = std::sqrt(1.0 + (g - MatD::Identity(p, p)).norm() + 1e-9);
  sk.inv_sigma = (1.0 / sigma) * (1.0 - 1e-12);
  sk.sigma = 1.0 / sk.inv_sigma;

  // 4. Coordinates of every point, in row blocks, and their error bounds:
  //    ||fl(P^T fl(x - v)) - P^T (x - v)|| <= sqrt(p) gamma_{dim+2} sigma ||x - v||.
  sk.coords.resize(static_cast<size_t>(n * p));
  sk.error.resize(static_cast<size_t>(n));
  const double err_scale = std::sqrt(static_cast<double>(p)) * detail::gamma_float(dim + 2) * sigma * (1.0 + 1e-6);
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += 256) {
    const int64_t rows = std::min<int64_t>(256, n - begin);
    project_rows(x + begin * dim, rows, dim, v, sk.basis.data(), p, sk.coords.data() + begin * p);
    for (int64_t r = 0; r < rows; ++r) {
      const float* row = x + (begin + r) * dim;
      double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int64_t j = 0; j < dim; ++j) {
        const double t = static_cast<double>(row[j]) - static_cast<double>(v[j]);
        lane[j & 7] += t * t;
      }
      double norm2 = 0.0;
      for (double l : lane) norm2 += l;
      sk.error[static_cast<size_t>(begin + r)] = err_scale * std::sqrt(norm2) * (1.0 + 1e-9);
    }
  }
  return sk;
}

}  // namespace subset::select::geometry
