// kernels.h's float kernels (sq_dist, sq_dist_below) and the one dispatch by CPU features.
#include "libsubset/linalg/x86.h"

#include "libsubset/linalg/kernels.h"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "libsubset/linalg/internal/dispatch.h"

namespace subset::linalg {
namespace {

// The fixed reduction of the 16 lane sums (see the header).
inline double reduce16(const double* s) {
  double u[8], v[4], w[2];
  for (int l = 0; l < 8; ++l) u[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) v[l] = u[l] + u[l + 4];
  for (int l = 0; l < 2; ++l) w[l] = v[l] + v[l + 2];
  return w[0] + w[1];
}

// The lanes of the last dim % 16 floats, then the reduction.
inline double finish(double* s, const float* a, const float* b, int64_t j, int64_t dim) {
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce16(s);
}

double sq_dist_below_generic(const float* a, const float* b, int64_t dim, double bound) {
  double s[16] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  int64_t j = 0;
  while (j + 16 <= dim) {
    const int64_t stop = std::min(dim - dim % 16, j + kExitEvery);
    for (; j < stop; j += 16)
      for (int l = 0; l < 16; ++l) {
        const float t = a[j + l] - b[j + l];
        s[l] += static_cast<double>(t) * static_cast<double>(t);
      }
    if (j < dim && reduce16(s) >= bound) return reduce16(s);
  }
  return finish(s, a, b, j, dim);
}

double sq_dist_generic(const float* a, const float* b, int64_t dim) {
  // An infinite bound never exits early: the plain definition.
  return sq_dist_below_generic(a, b, dim, HUGE_VAL);
}

#ifdef SUBSET_LINALG_X86
// 16 differences per round: two 8-float halves, each widened to 8 doubles (the maskz form of the
// conversion avoids GCC 12's false -Wmaybe-uninitialized on the plain one; all lanes are kept).
__attribute__((target("avx512f"))) inline void avx512_round(const float* a, const float* b, __m512d& acc0,
                                                            __m512d& acc1) {
  const auto all = static_cast<__mmask8>(0xFF);
  const __m512d lo = _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a), _mm256_loadu_ps(b)));
  const __m512d hi = _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + 8), _mm256_loadu_ps(b + 8)));
  acc0 = _mm512_fmadd_pd(lo, lo, acc0);  // exact products: the same as multiply then add
  acc1 = _mm512_fmadd_pd(hi, hi, acc1);
}

__attribute__((target("avx512f"))) double sq_dist_avx512(const float* a, const float* b, int64_t dim) {
  __m512d acc0 = _mm512_setzero_pd();  // lanes 0..7
  __m512d acc1 = _mm512_setzero_pd();  // lanes 8..15
  int64_t j = 0;
  for (; j + 16 <= dim; j += 16) avx512_round(a + j, b + j, acc0, acc1);
  alignas(64) double s[16];
  _mm512_store_pd(s, acc0);
  _mm512_store_pd(s + 8, acc1);
  return finish(s, a, b, j, dim);
}

__attribute__((target("avx512f"))) double sq_dist_below_avx512(const float* a, const float* b, int64_t dim,
                                                                double bound) {
  __m512d acc0 = _mm512_setzero_pd();
  __m512d acc1 = _mm512_setzero_pd();
  alignas(64) double s[16];
  int64_t j = 0;
  while (j + 16 <= dim) {
    const int64_t stop = std::min(dim - dim % 16, j + kExitEvery);
    for (; j < stop; j += 16) avx512_round(a + j, b + j, acc0, acc1);
    if (j < dim) {
      _mm512_store_pd(s, acc0);
      _mm512_store_pd(s + 8, acc1);
      const double partial = reduce16(s);
      if (partial >= bound) return partial;
    }
  }
  _mm512_store_pd(s, acc0);
  _mm512_store_pd(s + 8, acc1);
  return finish(s, a, b, j, dim);
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
  return finish(s, a, b, j, dim);
}
#endif

// level 0: the best the machine has; 1: at most AVX2; 2: plain C++.
internal::Dispatch make_dispatch(int level) {
  internal::Dispatch d{sq_dist_generic, sq_dist_below_generic, nullptr, nullptr, "generic", false, false};
#ifdef SUBSET_LINALG_X86
  if (level == 0 && __builtin_cpu_supports("avx512f")) {
    d.sq_dist = sq_dist_avx512;
    d.sq_dist_below = sq_dist_below_avx512;
    d.avx512 = true;
    d.vnni = __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
    d.name = "avx512f";
  } else if (level <= 1 && __builtin_cpu_supports("avx2")) {
    d.sq_dist = sq_dist_avx2;
    d.name = "avx2";
  }
#else
  (void)level;
#endif
  internal::choose_u8_kernels(d);
  return d;
}

std::atomic<int> g_kernel_level{0};

}  // namespace

namespace internal {
const Dispatch& dispatch() {
  static const Dispatch best = make_dispatch(0), avx2 = make_dispatch(1), plain = make_dispatch(2);
  switch (g_kernel_level.load(std::memory_order_relaxed)) {
    case 1:
      return avx2;
    case 2:
      return plain;
    default:
      return best;
  }
}
}  // namespace internal

double sq_dist(const float* a, const float* b, int64_t dim) { return internal::dispatch().sq_dist(a, b, dim); }
double sq_dist_reference(const float* a, const float* b, int64_t dim) { return sq_dist_generic(a, b, dim); }
double sq_dist_below(const float* a, const float* b, int64_t dim, double bound) {
  return internal::dispatch().sq_dist_below(a, b, dim, bound);
}
SqDistBelowFn sq_dist_below_kernel() { return internal::dispatch().sq_dist_below; }
const char* kernel_name() { return internal::dispatch().name; }
void limit_kernels_for_testing(int level) { g_kernel_level.store(level); }
bool use_avx512() { return internal::dispatch().avx512; }
bool use_vnni() { return internal::dispatch().vnni; }

double gamma_float(int64_t k) {
  const double u = std::ldexp(1.0, -24);
  return static_cast<double>(k) * u / (1.0 - static_cast<double>(k) * u);
}

}  // namespace subset::linalg
