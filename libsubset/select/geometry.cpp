// geometry.h's distance kernels (sq_dist, 8-bit dot products), their dispatch, the 8-bit copy's bounds.
#include "libsubset/select/internal/geometry_kernels.h"

#include "libsubset/select/internal/geometry.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

#include "libsubset/core/error.h"

namespace subset::select::geometry {
namespace {

// The fixed reduction of the 16 lane sums (see the header).
inline double reduce16(const double* s) {
  double u[8], v[4], w[2];
  for (int l = 0; l < 8; ++l) u[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) v[l] = u[l] + u[l + 4];
  for (int l = 0; l < 2; ++l) w[l] = v[l] + v[l + 2];
  return w[0] + w[1];
}

double sq_dist_generic(const float* a, const float* b, int64_t dim) {
  double s[16] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    for (int l = 0; l < 16; ++l) {
      const float t = a[j + l] - b[j + l];
      s[l] += static_cast<double>(t) * static_cast<double>(t);
    }
  }
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce16(s);
}

#ifdef SUBSET_GEOMETRY_X86
// 16 differences per round: two 8-float halves, each widened to 8 doubles (the maskz form of the
// conversion avoids GCC 12's false -Wmaybe-uninitialized on the plain one; all lanes are kept).
__attribute__((target("avx512f"))) double sq_dist_avx512(const float* a, const float* b, int64_t dim) {
  __m512d acc0 = _mm512_setzero_pd();  // lanes 0..7
  __m512d acc1 = _mm512_setzero_pd();  // lanes 8..15
  const auto all = static_cast<__mmask8>(0xFF);
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    const __m512d lo = _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
    const __m512d hi =
        _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8)));
    acc0 = _mm512_fmadd_pd(lo, lo, acc0);  // exact products: the same as multiply then add
    acc1 = _mm512_fmadd_pd(hi, hi, acc1);
  }
  double s[16];
  _mm512_storeu_pd(s, acc0);
  _mm512_storeu_pd(s + 8, acc1);
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce16(s);
}

__attribute__((target("avx2"))) double sq_dist_avx2(const float* a, const float* b, int64_t dim) {
  __m256d acc[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) {
    for (int h = 0; h < 2; ++h) {
      const __m256 t = _mm256_sub_ps(_mm256_loadu_ps(a + j + 8 * h), _mm256_loadu_ps(b + j + 8 * h));
      const __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(t));
      const __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(t, 1));
      acc[2 * h] = _mm256_add_pd(acc[2 * h], _mm256_mul_pd(lo, lo));
      acc[2 * h + 1] = _mm256_add_pd(acc[2 * h + 1], _mm256_mul_pd(hi, hi));
    }
  }
  double s[16];
  for (int q = 0; q < 4; ++q) _mm256_storeu_pd(s + 4 * q, acc[q]);
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce16(s);
}
#endif

void dot_u8_i16_rows_generic(const uint8_t* q, int64_t rows, int64_t dim, const int16_t* t, int64_t* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = q + r * dim;
    int64_t s = 0;
    for (int64_t j = 0; j < dim; ++j) s += static_cast<int32_t>(row[j]) * t[j];
    out[r] = s;
  }
}

double dot_u8_u8_generic(const uint8_t* a, const uint8_t* b, int64_t dim) {
  int64_t s = 0;
  for (int64_t j = 0; j < dim; ++j) s += static_cast<int64_t>(a[j]) * b[j];
  return static_cast<double>(s);
}

#ifdef SUBSET_GEOMETRY_X86
__attribute__((target("avx512f"))) inline double sum_lanes(__m512 acc) {
  alignas(64) float lane[16];
  _mm512_store_ps(lane, acc);
  double s = 0.0;
  for (float v : lane) s += static_cast<double>(v);
  return s;
}

__attribute__((target("avx512f"))) inline __m512 widen(__m128i bytes) {
  // maskz forms: see cvt in sq_dist_avx512 (GCC 12's false -Wmaybe-uninitialized)
  return _mm512_maskz_cvtepi32_ps(static_cast<__mmask16>(0xFFFF),
                                  _mm512_maskz_cvtepu8_epi32(static_cast<__mmask16>(0xFFFF), bytes));
}

__attribute__((target("avx512f,avx512bw"))) inline int64_t sum_epi32(__m512i acc) {
  alignas(64) int32_t lane[16];
  _mm512_store_si512(lane, acc);
  int64_t s = 0;
  for (int32_t v : lane) s += v;
  return s;
}

// Four rows at a time, 32 levels per row per round: levels widened to 16 bits, multiplied by the
// 16-bit target and summed in pairs into 32-bit lanes (vpmaddwd). Exact: a lane gains at most
// 2 * 255 * 32767 per round, and is emptied into 64 bits every 64 rounds.
__attribute__((target("avx512f,avx512bw"))) void dot_u8_i16_rows_avx512(const uint8_t* q, int64_t rows, int64_t dim,
                                                                        const int16_t* t, int64_t* out) {
  const int64_t full = dim & ~int64_t{31};
  const bool half = dim - full >= 16;
  const int64_t done = full + (half ? 16 : 0);
  int64_t r = 0;
  for (; r + 4 <= rows; r += 4) {
    if (r + 12 <= rows) prefetch(q + (r + 8) * dim, static_cast<size_t>(4 * dim));  // the group after next
    const uint8_t* row[4] = {q + r * dim, q + (r + 1) * dim, q + (r + 2) * dim, q + (r + 3) * dim};
    int64_t total[4] = {0, 0, 0, 0};
    for (int64_t j0 = 0; j0 < full; j0 += 64 * 32) {
      const int64_t j1 = std::min(full, j0 + 64 * 32);
      __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t j = j0; j < j1; j += 32) {
        const __m512i tj = _mm512_loadu_si512(t + j);
        a0 = _mm512_add_epi32(
            a0, _mm512_madd_epi16(
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[0] + j))), tj));
        a1 = _mm512_add_epi32(
            a1, _mm512_madd_epi16(
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[1] + j))), tj));
        a2 = _mm512_add_epi32(
            a2, _mm512_madd_epi16(
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[2] + j))), tj));
        a3 = _mm512_add_epi32(
            a3, _mm512_madd_epi16(
                    _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row[3] + j))), tj));
      }
      total[0] += sum_epi32(a0);
      total[1] += sum_epi32(a1);
      total[2] += sum_epi32(a2);
      total[3] += sum_epi32(a3);
    }
    for (int u = 0; u < 4; ++u) {
      if (half) {
        const __m256i tj = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + full));
        const __m256i pr = _mm256_madd_epi16(
            _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row[u] + full))), tj);
        alignas(32) int32_t lane[8];
        _mm256_store_si256(reinterpret_cast<__m256i*>(lane), pr);
        for (int32_t v : lane) total[u] += v;
      }
      for (int64_t j = done; j < dim; ++j) total[u] += static_cast<int32_t>(row[u][j]) * t[j];
      out[r + u] = total[u];
    }
  }
  if (r < rows) dot_u8_i16_rows_generic(q + r * dim, rows - r, dim, t, out + r);
}

// With VNNI: the target's 16-bit levels split as 256 * hi + lo (hi, lo signed bytes; levels
// within +-32639), and each half multiplied with 64 levels per instruction (vpdpbusd: unsigned
// bytes times signed bytes, four products per 32-bit lane, at most 4 * 255 * 128 = 130560 in
// magnitude). Four rows at a time. Exact: with at most 56 rounds per pass, 256 * hi + lo stays
// below 2^31 in every lane; longer rows are done in passes of 56 rounds.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void dot_u8_i16_rows_vnni(const uint8_t* q, int64_t rows,
                                                                                 int64_t dim, const int8_t* t_hi,
                                                                                 const int8_t* t_lo, int64_t* out) {
  constexpr int64_t kPass = 56;
  const int64_t rounds = (dim + 63) / 64;
  const uint64_t tail_bytes = static_cast<uint64_t>(dim - (rounds - 1) * 64);
  const __mmask64 tail = tail_bytes == 64 ? ~__mmask64{0} : ((__mmask64{1} << tail_bytes) - 1);
  int64_t r = 0;
  for (; r < rows; r += 4) {
    if (r + 12 <= rows) prefetch(q + (r + 8) * dim, static_cast<size_t>(4 * dim));  // the group after next
    const int64_t nr = std::min<int64_t>(4, rows - r);
    const uint8_t* row[4];
    for (int u = 0; u < 4; ++u) row[u] = q + (r + std::min<int64_t>(u, nr - 1)) * dim;
    int64_t total[4] = {0, 0, 0, 0};
    for (int64_t c0 = 0; c0 < rounds; c0 += kPass) {
      const int64_t c1 = std::min(rounds, c0 + kPass);
      const int64_t full_end = c1 == rounds ? c1 - 1 : c1;  // rounds read whole
      __m512i h0 = _mm512_setzero_si512(), h1 = h0, h2 = h0, h3 = h0, l0 = h0, l1 = h0, l2 = h0, l3 = h0;
      for (int64_t c = c0; c < full_end; ++c) {
        const __m512i th = _mm512_loadu_si512(t_hi + c * 64), tl = _mm512_loadu_si512(t_lo + c * 64);
        const __m512i x0 = _mm512_loadu_si512(row[0] + c * 64), x1 = _mm512_loadu_si512(row[1] + c * 64);
        const __m512i x2 = _mm512_loadu_si512(row[2] + c * 64), x3 = _mm512_loadu_si512(row[3] + c * 64);
        h0 = _mm512_dpbusd_epi32(h0, x0, th);
        l0 = _mm512_dpbusd_epi32(l0, x0, tl);
        h1 = _mm512_dpbusd_epi32(h1, x1, th);
        l1 = _mm512_dpbusd_epi32(l1, x1, tl);
        h2 = _mm512_dpbusd_epi32(h2, x2, th);
        l2 = _mm512_dpbusd_epi32(l2, x2, tl);
        h3 = _mm512_dpbusd_epi32(h3, x3, th);
        l3 = _mm512_dpbusd_epi32(l3, x3, tl);
      }
      if (full_end < c1) {  // the last, partial round
        const int64_t c = full_end;
        const __m512i th = _mm512_maskz_loadu_epi8(tail, t_hi + c * 64),
                      tl = _mm512_maskz_loadu_epi8(tail, t_lo + c * 64);
        const __m512i x0 = _mm512_maskz_loadu_epi8(tail, row[0] + c * 64),
                      x1 = _mm512_maskz_loadu_epi8(tail, row[1] + c * 64);
        const __m512i x2 = _mm512_maskz_loadu_epi8(tail, row[2] + c * 64),
                      x3 = _mm512_maskz_loadu_epi8(tail, row[3] + c * 64);
        h0 = _mm512_dpbusd_epi32(h0, x0, th);
        l0 = _mm512_dpbusd_epi32(l0, x0, tl);
        h1 = _mm512_dpbusd_epi32(h1, x1, th);
        l1 = _mm512_dpbusd_epi32(l1, x1, tl);
        h2 = _mm512_dpbusd_epi32(h2, x2, th);
        l2 = _mm512_dpbusd_epi32(l2, x2, tl);
        h3 = _mm512_dpbusd_epi32(h3, x3, th);
        l3 = _mm512_dpbusd_epi32(l3, x3, tl);
      }
      total[0] += _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(h0, 8), l0));
      total[1] += _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(h1, 8), l1));
      total[2] += _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(h2, 8), l2));
      total[3] += _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_slli_epi32(h3, 8), l3));
    }
    for (int64_t u = 0; u < nr; ++u) out[r + u] = total[u];
  }
}

// sum_j a_j b_j for unsigned a and signed b bytes, 64 per instruction (vpdpbusd), exactly: a
// 32-bit lane gains at most 4 * 255 * 128 per round and is emptied every 1024 rounds.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) int64_t dot_u8_s8_vnni(const uint8_t* a, const int8_t* b,
                                                                              int64_t dim) {
  const int64_t rounds = (dim + 63) / 64;
  const uint64_t tail_bytes = static_cast<uint64_t>(dim - (rounds - 1) * 64);
  const __mmask64 tail = tail_bytes == 64 ? ~__mmask64{0} : ((__mmask64{1} << tail_bytes) - 1);
  int64_t total = 0;
  for (int64_t c0 = 0; c0 < rounds; c0 += 1024) {
    const int64_t c1 = std::min(rounds, c0 + 1024);
    const int64_t full_end = c1 == rounds ? c1 - 1 : c1;
    __m512i acc0 = _mm512_setzero_si512(), acc1 = acc0;
    int64_t c = c0;
    for (; c + 2 <= full_end; c += 2) {
      acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(a + c * 64), _mm512_loadu_si512(b + c * 64));
      acc1 = _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(a + c * 64 + 64), _mm512_loadu_si512(b + c * 64 + 64));
    }
    if (c < full_end) {
      acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(a + c * 64), _mm512_loadu_si512(b + c * 64));
      ++c;
    }
    if (c < c1)  // the last, partial round
      acc1 = _mm512_dpbusd_epi32(acc1, _mm512_maskz_loadu_epi8(tail, a + c * 64),
                                 _mm512_maskz_loadu_epi8(tail, b + c * 64));
    total += _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
  }
  return total;
}

// Products of levels (<= 65025) and float lane sums below 2^24 are exact; the lanes are moved to
// double every 256 rounds (256 * 65025 < 2^24), so the result is the exact integer.
__attribute__((target("avx512f"))) double dot_u8_u8_avx512(const uint8_t* a, const uint8_t* b, int64_t dim) {
  const int64_t full = dim & ~int64_t{15};
  double total = 0.0;
  int64_t j = 0;
  while (j < full) {
    const int64_t stop = std::min(full, j + 256 * 16);
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    for (; j + 32 <= stop; j += 32) {
      acc0 = _mm512_fmadd_ps(widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j))),
                             widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + j))), acc0);
      acc1 = _mm512_fmadd_ps(widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j + 16))),
                             widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + j + 16))), acc1);
    }
    for (; j < stop; j += 16)
      acc0 = _mm512_fmadd_ps(widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j))),
                             widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + j))), acc0);
    total += sum_lanes(acc0) + sum_lanes(acc1);
  }
  return total + dot_u8_u8_generic(a + full, b + full, dim - full);
}
#endif

using Kernel = double (*)(const float*, const float*, int64_t);
using DotKernel = void (*)(const uint8_t*, int64_t, int64_t, const int16_t*, int64_t*);
using DotU8Kernel = double (*)(const uint8_t*, const uint8_t*, int64_t);

struct Dispatch {
  Kernel fn = sq_dist_generic;
  DotKernel dot = dot_u8_i16_rows_generic;
  DotU8Kernel dot8 = dot_u8_u8_generic;
  const char* name = "generic";
  bool avx512 = false;
  bool vnni = false;
  // level 0: the best the machine has; 1: at most AVX2; 2: plain C++.
  explicit Dispatch(int level) {
#ifdef SUBSET_GEOMETRY_X86
    if (level == 0 && __builtin_cpu_supports("avx512f")) {
      fn = sq_dist_avx512;
      avx512 = true;
      if (__builtin_cpu_supports("avx512bw")) dot = dot_u8_i16_rows_avx512;
      vnni = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
      dot8 = dot_u8_u8_avx512;
      name = "avx512f";
    } else if (level <= 1 && __builtin_cpu_supports("avx2")) {
      fn = sq_dist_avx2;
      name = "avx2";
    }
#else
    (void)level;
#endif
  }
};

std::atomic<int> g_kernel_level{0};

const Dispatch& dispatch() {
  static const Dispatch best(0), avx2(1), plain(2);
  switch (g_kernel_level.load(std::memory_order_relaxed)) {
    case 1:
      return avx2;
    case 2:
      return plain;
    default:
      return best;
  }
}

}  // namespace

namespace detail {
bool use_avx512() { return dispatch().avx512; }

double gamma_float(int64_t k) {
  const double u = std::ldexp(1.0, -24);
  return static_cast<double>(k) * u / (1.0 - static_cast<double>(k) * u);
}
}  // namespace detail

double sq_dist(const float* a, const float* b, int64_t dim) { return dispatch().fn(a, b, dim); }
double sq_dist_reference(const float* a, const float* b, int64_t dim) { return sq_dist_generic(a, b, dim); }
const char* sq_dist_kernel() { return dispatch().name; }

void limit_kernels_for_testing(int level) { g_kernel_level.store(level); }

void dot_u8_i16_rows(const uint8_t* q, int64_t rows, int64_t dim, const int16_t* t, int64_t* out) {
  dispatch().dot(q, rows, dim, t, out);
}

TargetLevels::TargetLevels(const int16_t* t, int64_t dim) : levels(t, t + dim) {
#ifdef SUBSET_GEOMETRY_X86
  if (dispatch().vnni) {
    hi.resize(static_cast<size_t>(dim));
    lo.resize(static_cast<size_t>(dim));
    for (int64_t j = 0; j < dim; ++j) {
      const int v = t[j];
      SUBSET_CHECK(v >= -kMaxTargetLevel && v <= kMaxTargetLevel, "dot_u8", "target level " << v << " out of range");
      const int h = (v + 128 + 32768) / 256 - 128;  // floor((v + 128) / 256)
      hi[static_cast<size_t>(j)] = static_cast<int8_t>(h);
      lo[static_cast<size_t>(j)] = static_cast<int8_t>(v - 256 * h);
    }
  }
#endif
}

void dot_u8_rows(const uint8_t* q, int64_t rows, int64_t dim, const TargetLevels& t, int64_t* out) {
#ifdef SUBSET_GEOMETRY_X86
  if (!t.hi.empty() && dispatch().vnni) return dot_u8_i16_rows_vnni(q, rows, dim, t.hi.data(), t.lo.data(), out);
#endif
  dispatch().dot(q, rows, dim, t.levels.data(), out);
}

double dot_u8_u8(const uint8_t* a, const uint8_t* b, int64_t dim) { return dispatch().dot8(a, b, dim); }

namespace {

// ||x^_a - x^_b|| - e_a - e_b, given the exact sum of products of their levels.
double quantized_bound(const Quantized& qz, size_t a, size_t b, double level_dot) {
  const double la = qz.lo[a], lb = qz.lo[b], sa = qz.step[a], sb = qz.step[b];
  const auto& sq_norm = qz.sq_norm;
  const auto& error = qz.error;
  const double t0 = static_cast<double>(qz.dim) * la * lb, t1 = la * sb * qz.q_sum[b], t2 = lb * sa * qz.q_sum[a];
  const double t3 = sa * sb * level_dot;
  const double est = sq_norm[a] + sq_norm[b] - 2.0 * (t0 + t1 + t2 + t3);
  const double slack =
      1e-12 * (sq_norm[a] + sq_norm[b] + 2.0 * (std::abs(t0) + std::abs(t1) + std::abs(t2) + std::abs(t3)));
  const double l = std::sqrt(std::max(0.0, est - slack)) - error[a] - error[b];
  return l > 0.0 ? l : 0.0;
}

}  // namespace

double Quantized::lower_bound(int64_t i, int64_t j) const {
  return quantized_bound(*this, static_cast<size_t>(i), static_cast<size_t>(j), dot_u8_u8(row(i), row(j), dim));
}

Quantized::Reference Quantized::reference(int64_t j) const {
  Reference ref;
  ref.index = j;
#ifdef SUBSET_GEOMETRY_X86
  if (dispatch().vnni) {
    ref.shifted.resize(static_cast<size_t>(dim));
    const uint8_t* r = row(j);
    for (int64_t k = 0; k < dim; ++k)
      ref.shifted[static_cast<size_t>(k)] = static_cast<int8_t>(static_cast<int>(r[k]) - 128);
  }
#endif
  return ref;
}

double Quantized::lower_bound(int64_t i, const Reference& j) const {
  double level_dot;
#ifdef SUBSET_GEOMETRY_X86
  if (!j.shifted.empty() && dispatch().vnni) {
    // q_i . q_j = q_i . (q_j - 128) + 128 sum(q_i), all exact integers
    level_dot =
        static_cast<double>(dot_u8_s8_vnni(row(i), j.shifted.data(), dim)) + 128.0 * q_sum[static_cast<size_t>(i)];
  } else
#endif
  {
    level_dot = dot_u8_u8(row(i), row(j.index), dim);
  }
  return quantized_bound(*this, static_cast<size_t>(i), static_cast<size_t>(j.index), level_dot);
}

}  // namespace subset::select::geometry
