#pragma once
// The distance and dot-product kernels of select (k-means, k-center, herding), one family with
// one dispatch by CPU features (AVX-512, AVX2, plain C++).
//
// ## The distance (bit for bit, on every machine and at any thread count)
// sq_dist(a, b) over `dim` floats is defined as
//   t_j  = a_j - b_j                              rounded to float32
//   s_l  = sum over j with j mod 16 == l of double(t_j) * double(t_j), added in increasing j,
//          in double, starting from +0.0                                     (l = 0..15)
//   u_l  = s_l + s_{l+8}  (l < 8);  v_l = u_l + u_{l+4}  (l < 4);  w_l = v_l + v_{l+2}  (l < 2)
//   sq_dist = w_0 + w_1                          (all in double)
// The product of two floats is exact in double, so an FMA and a multiply-then-add give the same
// value, and the lanes map one-to-one onto AVX-512 registers: every kernel returns the same double
// as the plain loop (sq_dist_reference). Relative to the real squared distance of the float inputs
// its error is below kDistRelError (one float rounding per difference, then a few double roundings).
#include <cstddef>
#include <cstdint>

namespace subset::linalg {

// Bound on |sq_dist - exact| / exact (the true figure is about 1.2e-7).
inline constexpr double kDistRelError = 1e-6;

double sq_dist(const float* a, const float* b, int64_t dim);
// The same function written as a plain loop (no SIMD dispatch): the definition, for tests.
double sq_dist_reference(const float* a, const float* b, int64_t dim);

// sq_dist with an early exit: the exact same value when it is below `bound`, else some value
// >= bound (checked every kExitEvery floats). Partial lane sums only grow (nonnegative terms,
// rounding to nearest is monotone), and so does the fixed reduction of them.
double sq_dist_below(const float* a, const float* b, int64_t dim, double bound);
inline constexpr int64_t kExitEvery = 256;
// The kernel sq_dist_below dispatches to now, for loops that call it many times.
using SqDistBelowFn = double (*)(const float*, const float*, int64_t, double);
SqDistBelowFn sq_dist_below_kernel();

// Which kernels are in use: "avx512f", "avx2" or "generic".
const char* kernel_name();
// For tests: 0 uses the best kernels the machine has, 1 at most AVX2, 2 only plain C++ (every
// result stays the same; only speed changes). Callers' own SIMD code follows use_avx512().
void limit_kernels_for_testing(int level);
// Whether the kernels in use may use AVX-512F (and, for use_vnni, AVX512-BW and VNNI).
bool use_avx512();
bool use_vnni();

// gamma_k = k u / (1 - k u): the classic bound on the relative error of a length-k float dot product.
double gamma_float(int64_t k);

// ## Exact 8-bit dot products
// out[r] = sum_j q[r][j] * t[j], exactly, for `rows` consecutive rows of `dim` levels.
void dot_u8_i16_rows(const uint8_t* q, int64_t rows, int64_t dim, const int16_t* t, int64_t* out);
// The same with the target's 16-bit levels split as 256 * hi + lo (signed bytes; levels within
// +-kMaxTargetLevel). Only where use_vnni().
inline constexpr int kMaxTargetLevel = 32639;
void dot_u8_i16_rows_split(const uint8_t* q, int64_t rows, int64_t dim, const int8_t* hi, const int8_t* lo,
                           int64_t* out);
// sum_j a_j b_j for unsigned a and signed b, exactly. Only where use_vnni().
int64_t dot_u8_s8(const uint8_t* a, const int8_t* b, int64_t dim);
// sum_j a_j b_j, exactly.
double dot_u8_u8(const uint8_t* a, const uint8_t* b, int64_t dim);

// Asks the cache to fetch `bytes` bytes from p (no effect where unsupported). Always inlined:
// GCC otherwise deduces that a function holding only prefetches has no effect and drops the
// calls to it.
#if defined(__GNUC__) || defined(__clang__)
#define SUBSET_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define SUBSET_ALWAYS_INLINE inline
#endif
SUBSET_ALWAYS_INLINE void prefetch(const void* p, size_t bytes) {
#if defined(__GNUC__) || defined(__clang__)
  const char* c = static_cast<const char*>(p);
  for (size_t o = 0; o < bytes; o += 64) __builtin_prefetch(c + o);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace subset::linalg
