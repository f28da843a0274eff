// Quantized rows (geometry.h's 8-bit copy: quantize_rows) and check_values.
#include "libsubset/select/internal/geometry_kernels.h"

#include "libsubset/select/internal/geometry.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "libsubset/core/error.h"

namespace subset::select::geometry {

namespace {

struct RowCode {
  float lo = 0.0f, step = 0.0f;
  double sq_norm = 0.0, error = 0.0, q_norm = 0.0, q_sum = 0.0;
};

// Loops written in independent lanes so that they vectorise (the lane order changes sums only by
// double roundings, which the error's margins cover).
SUBSET_ALWAYS_INLINE RowCode quantize_row_body(const float* row, int64_t dim, uint8_t* q) {
  float lo_l[16], hi_l[16];
  for (int l = 0; l < 16; ++l) lo_l[l] = hi_l[l] = row[0];
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16)
    for (int l = 0; l < 16; ++l) {
      const float v = row[j + l];
      lo_l[l] = v < lo_l[l] ? v : lo_l[l];
      hi_l[l] = v > hi_l[l] ? v : hi_l[l];
    }
  for (; j < dim; ++j) {
    lo_l[0] = row[j] < lo_l[0] ? row[j] : lo_l[0];
    hi_l[0] = row[j] > hi_l[0] ? row[j] : hi_l[0];
  }
  RowCode c;
  float lo = lo_l[0], hi = hi_l[0];
  for (int l = 1; l < 16; ++l) {
    lo = std::min(lo, lo_l[l]);
    hi = std::max(hi, hi_l[l]);
  }
  c.lo = lo;
  c.step = static_cast<float>((static_cast<double>(hi) - static_cast<double>(lo)) / 255.0);
  float inv = c.step > 0.0f ? 1.0f / c.step : 0.0f;
  if (!(inv < std::numeric_limits<float>::infinity())) inv = 0.0f;
  // Any rounding to a level will do: the error norm below measures what it cost.
  for (j = 0; j < dim; ++j) {
    float v = (row[j] - lo) * inv + 0.5f;
    v = v > 0.0f ? v : 0.0f;
    v = v < 255.0f ? v : 255.0f;
    q[j] = static_cast<uint8_t>(static_cast<int32_t>(v));
  }
  double sq[8] = {}, err[8] = {}, qn[8] = {}, qs[8] = {};
  const double lod = lo, stepd = c.step;
  auto accumulate = [&](int64_t at, int l) {
    const double level = q[at];
    const double rec = lod + stepd * level;  // stepd * level is exact: one rounding
    const double e = static_cast<double>(row[at]) - rec;
    sq[l] += rec * rec;
    err[l] += e * e;
    qn[l] += level * level;
    qs[l] += level;
  };
  for (j = 0; j + 8 <= dim; j += 8)
    for (int l = 0; l < 8; ++l) accumulate(j + l, l);
  for (int l = 0; j + l < dim; ++l) accumulate(j + l, l);
  double sq_t = 0, err_t = 0, qn_t = 0, qs_t = 0;
  for (int l = 0; l < 8; ++l) {
    sq_t += sq[l];
    err_t += err[l];
    qn_t += qn[l];
    qs_t += qs[l];
  }
  c.sq_norm = sq_t;
  // Each reconstructed value and difference is rounded once or twice in double: covered by the
  // relative 1e-9 and the 1e-12 * (|x| + |x^|) terms.
  c.error = std::sqrt(err_t) * (1.0 + 1e-9) + 1e-12 * (2.0 * std::sqrt(sq_t) + std::sqrt(err_t));
  c.q_norm = std::sqrt(qn_t);
  c.q_sum = qs_t;
  return c;
}

RowCode quantize_row_generic(const float* row, int64_t dim, uint8_t* q) { return quantize_row_body(row, dim, q); }
#ifdef SUBSET_GEOMETRY_X86
// The same code as quantize_row_body, by hand: the generic loops do not vectorise the double sums.
__attribute__((target("avx512f"))) RowCode quantize_row_avx512(const float* row, int64_t dim, uint8_t* q) {
  const int64_t full = dim & ~int64_t{15};
  __m512 vlo = _mm512_set1_ps(row[0]), vhi = vlo;
  for (int64_t j = 0; j < full; j += 16) {
    const __m512 v = _mm512_loadu_ps(row + j);
    vlo = _mm512_min_ps(vlo, v);
    vhi = _mm512_max_ps(vhi, v);
  }
  float lo = _mm512_reduce_min_ps(vlo), hi = _mm512_reduce_max_ps(vhi);
  for (int64_t j = full; j < dim; ++j) {
    lo = std::min(lo, row[j]);
    hi = std::max(hi, row[j]);
  }
  RowCode c;
  c.lo = lo;
  c.step = static_cast<float>((static_cast<double>(hi) - static_cast<double>(lo)) / 255.0);
  float inv = c.step > 0.0f ? 1.0f / c.step : 0.0f;
  if (!(inv < std::numeric_limits<float>::infinity())) inv = 0.0f;
  const __m512 vinv = _mm512_set1_ps(inv), vlo16 = _mm512_set1_ps(lo), half = _mm512_set1_ps(0.5f);
  const __m512 zero = _mm512_setzero_ps(), top = _mm512_set1_ps(255.0f);
  const __m512d lod = _mm512_set1_pd(lo), stepd = _mm512_set1_pd(c.step);
  const auto all = static_cast<__mmask8>(0xFF);
  __m512d sq = _mm512_setzero_pd(), err = sq, qn = sq, qs = sq;
  alignas(64) int32_t levels[16];
  for (int64_t j = 0; j < full; j += 16) {
    __m512 v = _mm512_fmadd_ps(_mm512_sub_ps(_mm512_loadu_ps(row + j), vlo16), vinv, half);
    v = _mm512_min_ps(_mm512_max_ps(v, zero), top);
    const __m512i iv = _mm512_cvttps_epi32(v);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + j), _mm512_cvtepi32_epi8(iv));
    _mm512_store_si512(levels, iv);
    for (int h = 0; h < 2; ++h) {
      const __m512d ld =
          _mm512_maskz_cvtepi32_pd(all, _mm256_load_si256(reinterpret_cast<const __m256i*>(levels + 8 * h)));
      const __m512d xd = _mm512_maskz_cvtps_pd(all, _mm256_loadu_ps(row + j + 8 * h));
      const __m512d rec = _mm512_fmadd_pd(stepd, ld, lod);  // exact product: one rounding
      const __m512d e = _mm512_sub_pd(xd, rec);
      sq = _mm512_fmadd_pd(rec, rec, sq);
      err = _mm512_fmadd_pd(e, e, err);
      qn = _mm512_fmadd_pd(ld, ld, qn);
      qs = _mm512_add_pd(qs, ld);
    }
  }
  double sq_t = _mm512_reduce_add_pd(sq), err_t = _mm512_reduce_add_pd(err);
  double qn_t = _mm512_reduce_add_pd(qn), qs_t = _mm512_reduce_add_pd(qs);
  for (int64_t j = full; j < dim; ++j) {
    float v = (row[j] - lo) * inv + 0.5f;
    v = v > 0.0f ? v : 0.0f;
    v = v < 255.0f ? v : 255.0f;
    q[j] = static_cast<uint8_t>(static_cast<int32_t>(v));
    const double level = q[j];
    const double rec = static_cast<double>(lo) + static_cast<double>(c.step) * level;
    const double e = static_cast<double>(row[j]) - rec;
    sq_t += rec * rec;
    err_t += e * e;
    qn_t += level * level;
    qs_t += level;
  }
  c.sq_norm = sq_t;
  c.error = std::sqrt(err_t) * (1.0 + 1e-9) + 1e-12 * (2.0 * std::sqrt(sq_t) + std::sqrt(err_t));
  c.q_norm = std::sqrt(qn_t);
  c.q_sum = qs_t;
  return c;
}
#endif

}  // namespace

Quantized quantize_rows(const float* x, int64_t n, int64_t dim) {
  Quantized out;
  out.n = n;
  out.dim = dim;
  out.q.resize(static_cast<size_t>(n * dim));
  out.lo.resize(static_cast<size_t>(n));
  out.step.resize(static_cast<size_t>(n));
  out.sq_norm.resize(static_cast<size_t>(n));
  out.error.resize(static_cast<size_t>(n));
  out.q_norm.resize(static_cast<size_t>(n));
  out.q_sum.resize(static_cast<size_t>(n));
  auto fn = quantize_row_generic;
#ifdef SUBSET_GEOMETRY_X86
  if (detail::use_avx512()) fn = quantize_row_avx512;
#endif
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const RowCode c = fn(x + i * dim, dim, out.q.data() + i * dim);
    const auto k = static_cast<size_t>(i);
    out.lo[k] = c.lo;
    out.step[k] = c.step;
    out.sq_norm[k] = c.sq_norm;
    out.error[k] = c.error;
    out.q_norm[k] = c.q_norm;
    out.q_sum[k] = c.q_sum;
  }
  return out;
}

void check_values(const float* x, int64_t n, int64_t dim, double limit, const char* method, int64_t first_row) {
  int64_t bad = n;
  const auto lim = static_cast<float>(limit);
#pragma omp parallel for schedule(static) reduction(min : bad)
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x + i * dim;
    bool ok = true;
    for (int64_t j = 0; j < dim; ++j) ok &= (row[j] <= lim) & (row[j] >= -lim);  // false for NaN
    if (!ok && i < bad) bad = i;
  }
  SUBSET_CHECK(bad == n, method, "row " << first_row + bad << " of the features holds NaN, Inf or a value beyond +-" << limit);
}

}  // namespace subset::select::geometry
