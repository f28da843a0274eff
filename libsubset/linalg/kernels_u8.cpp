// kernels.h's exact 8-bit dot products (the 8-bit copy of geometry's bounds), in plain C++,
// AVX-512BW and AVX512-VNNI.
#include "libsubset/linalg/x86.h"

#include <algorithm>

#include "libsubset/linalg/internal/dispatch.h"
#include "libsubset/linalg/kernels.h"

namespace subset::linalg {
namespace {

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

#ifdef SUBSET_LINALG_X86
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

}  // namespace

namespace internal {
void choose_u8_kernels(Dispatch& d) {
  d.dot_rows = dot_u8_i16_rows_generic;
  d.dot_u8 = dot_u8_u8_generic;
#ifdef SUBSET_LINALG_X86
  if (d.avx512) {
    if (__builtin_cpu_supports("avx512bw")) d.dot_rows = dot_u8_i16_rows_avx512;
    d.dot_u8 = dot_u8_u8_avx512;
  }
#endif
}
}  // namespace internal

void dot_u8_i16_rows(const uint8_t* q, int64_t rows, int64_t dim, const int16_t* t, int64_t* out) {
  internal::dispatch().dot_rows(q, rows, dim, t, out);
}

void dot_u8_i16_rows_split(const uint8_t* q, int64_t rows, int64_t dim, const int8_t* hi, const int8_t* lo,
                           int64_t* out) {
#ifdef SUBSET_LINALG_X86
  if (internal::dispatch().vnni) return dot_u8_i16_rows_vnni(q, rows, dim, hi, lo, out);
#endif
  // Not reached through geometry (it splits targets only where use_vnni()); exact all the same.
  for (int64_t r = 0; r < rows; ++r) {
    int64_t s = 0;
    for (int64_t j = 0; j < dim; ++j) s += static_cast<int64_t>(q[r * dim + j]) * (256 * hi[j] + lo[j]);
    out[r] = s;
  }
}

int64_t dot_u8_s8(const uint8_t* a, const int8_t* b, int64_t dim) {
#ifdef SUBSET_LINALG_X86
  if (internal::dispatch().vnni) return dot_u8_s8_vnni(a, b, dim);
#endif
  int64_t s = 0;
  for (int64_t j = 0; j < dim; ++j) s += static_cast<int64_t>(a[j]) * b[j];
  return s;
}

double dot_u8_u8(const uint8_t* a, const uint8_t* b, int64_t dim) { return internal::dispatch().dot_u8(a, b, dim); }

}  // namespace subset::linalg
