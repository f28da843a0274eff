// kmeans_detail::sq_dist_below: geometry's sq_dist with an early exit, in plain C++ and AVX-512.
#include <algorithm>

#include "libsubset/select/internal/kmeans.h"

namespace subset::select {
namespace kmeans_internal {
namespace {

// sq_dist (geometry.h) with an early exit: the exact same value when it is below `bound`, else
// some value >= bound. Partial lane sums only grow (nonnegative terms, rounding to nearest is
// monotone), and so does the fixed reduction of them, so once the reduced partial sums reach the
// bound the full distance does too. The full computation repeats geometry.h's definition step
// for step (float differences, double squares summed in 16 lanes, the fixed reduction).
inline double reduce_lanes(const double* s) {
  double u[8], v[4], w[2];
  for (int l = 0; l < 8; ++l) u[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) v[l] = u[l] + u[l + 4];
  for (int l = 0; l < 2; ++l) w[l] = v[l] + v[l + 2];
  return w[0] + w[1];
}

}  // namespace

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
    if (j < dim && reduce_lanes(s) >= bound) return reduce_lanes(s);
  }
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce_lanes(s);
}

#ifdef SUBSET_KMEANS_X86
__attribute__((target("avx512f"))) double sq_dist_below_avx512(const float* a, const float* b, int64_t dim,
                                                                double bound) {
  __m512d acc0 = _mm512_setzero_pd();  // lanes 0..7
  __m512d acc1 = _mm512_setzero_pd();  // lanes 8..15
  const auto all = static_cast<__mmask8>(0xFF);
  alignas(64) double s[16];
  int64_t j = 0;
  while (j + 16 <= dim) {
    const int64_t stop = std::min(dim - dim % 16, j + kExitEvery);
    for (; j < stop; j += 16) {
      const __m512d lo = _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
      const __m512d hi =
          _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8)));
      acc0 = _mm512_fmadd_pd(lo, lo, acc0);  // exact products: the same as multiply then add
      acc1 = _mm512_fmadd_pd(hi, hi, acc1);
    }
    if (j < dim) {
      _mm512_store_pd(s, acc0);
      _mm512_store_pd(s + 8, acc1);
      const double partial = reduce_lanes(s);
      if (partial >= bound) return partial;
    }
  }
  _mm512_store_pd(s, acc0);
  _mm512_store_pd(s + 8, acc1);
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce_lanes(s);
}
#endif

}  // namespace kmeans_internal

namespace kmeans_detail {
using namespace kmeans_internal;
double sq_dist_below(const float* a, const float* b, int64_t dim, double bound) {
#ifdef SUBSET_KMEANS_X86
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return sq_dist_below_avx512(a, b, dim, bound);
#endif
  return sq_dist_below_generic(a, b, dim, bound);
}
}  // namespace kmeans_detail

}  // namespace subset::select
