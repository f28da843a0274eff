#pragma once
// Exact distances and rigorous distance lower bounds shared by the geometric selectors (kcenter,
// herding). Not installed: an implementation detail of libsubset/select.
//
// The distance sq_dist and its kernels are linalg's (linalg/kernels.h, which defines it bit for
// bit); the pruning tests below account for its kDistRelError.
//
// ## Lower bounds from a sketch
// A Sketch keeps, for every point, p << dim coordinates y_x = fl(P^T (x - v)) of an approximately
// orthonormal basis P (top principal directions of a subsample), and a bound e_x on the rounding
// error of y_x. For any two vectors, ||x - c|| >= (||y_x - y_c|| - e_x - e_c) / sigma, where sigma
// bounds the spectral norm of P. This holds whatever P is, so the basis (and its subsample) only
// affects how often the bound prunes, never a result.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "libsubset/linalg/kernels.h"

namespace subset::select::geometry {

using linalg::kDistRelError;
// Relative safety margin used by every pruning test (on Euclidean distances), well above the
// rounding errors it covers.
inline constexpr double kPruneMargin = 1e-5;

using linalg::limit_kernels_for_testing;
using linalg::prefetch;
using linalg::sq_dist;
using linalg::sq_dist_reference;
// Which kernel sq_dist uses on this machine: "avx512f", "avx2" or "generic".
inline const char* sq_dist_kernel() { return linalg::kernel_name(); }

// Rejects (subset::Error naming the row) NaN, +-Inf and values with |v| > limit, so that the
// float differences in sq_dist and the targets built from them cannot overflow.
// first_row: the number of x's first row in the whole set (a block of rows read from disk).
void check_values(const float* x, int64_t n, int64_t dim, double limit, const char* method, int64_t first_row = 0);

struct Sketch {
  int64_t n = 0, dim = 0, p = 0;  // p == 0: no sketch (no pruning by projection)
  std::vector<float> center;      // v, dim floats
  std::vector<float> basis;       // P, dim x p row-major
  std::vector<float> coords;      // n x p: fl(P^T (x - v))
  std::vector<double> error;      // n: e_x
  double inv_sigma = 0.0;         // a lower bound on 1 / ||P||_2
  double sigma = 0.0;             // 1 / inv_sigma (rounding covered by the tests' margins)

  bool enabled() const { return p > 0; }
  const float* coords_of(int64_t i) const { return coords.data() + i * p; }

  // Rigorous lower bound on the Euclidean distance between the vectors whose sketch coordinates
  // are (ya, ea) and (yb, eb). Never negative.
  double lower_bound(const float* ya, double ea, const float* yb, double eb) const;

  // Batched squared coordinate distances ||y - yq||^2 (in double): of the points idx[0..count) or
  // of `count` consecutive coordinate rows starting at `rows`.
  void sq_dists(const int64_t* idx, size_t count, const float* yq, double* out) const;
  void sq_dists_rows(const float* rows, size_t count, const float* yq, double* out) const;
  // lower_bound(...) >= dist, for the two vectors whose squared coordinate distance is s.
  bool exceeds_sq(double s, double ea, double eb, double dist) const {
    const double root = (dist * sigma + ea + eb) / (1.0 - 1e-12);
    return s >= root * root * (1.0 + 1e-12);
  }
};

// ## Lower bounds from an 8-bit copy
// Quantized keeps every row as x^_j = lo + step * q_j (q_j in 0..255, lo and step floats, x^ read
// in exact arithmetic) together with e >= ||x - x^||, ||x^||^2 and ||q||. A quarter of the bytes
// of the float rows, so a pass over it costs a quarter of the memory traffic, and for data on a
// 256-level grid (8-bit images scaled to [0, 1]) e is ~1e-7: the bounds are then nearly exact.
struct Quantized {
  int64_t n = 0, dim = 0;
  std::vector<uint8_t> q;       // n x dim
  std::vector<float> lo, step;  // per row
  std::vector<double> sq_norm;  // ||x^||^2, in double (relative error < 1e-13)
  std::vector<double> error;    // >= ||x - x^||
  std::vector<double> q_norm;   // ||q||_2
  std::vector<double> q_sum;    // sum_j q_j
  const uint8_t* row(int64_t i) const { return q.data() + i * dim; }
  // Rigorous lower bound on the Euclidean distance between rows i and j (the integer dot product
  // of the levels is exact, so the bound is ||x^_i - x^_j|| - e_i - e_j up to double rounding).
  double lower_bound(int64_t i, int64_t j) const;
  // The same bound against a row prepared once for many comparisons (faster on VNNI machines).
  struct Reference {
    int64_t index = -1;
    std::vector<int8_t> shifted;  // q_j - 128, when the VNNI kernel is used
  };
  Reference reference(int64_t j) const;
  double lower_bound(int64_t i, const Reference& j) const;
};
Quantized quantize_rows(const float* x, int64_t n, int64_t dim);

using linalg::dot_u8_i16_rows;
using linalg::dot_u8_u8;
using linalg::kMaxTargetLevel;

// A 16-bit target prepared for dot_u8_rows (levels within +-kMaxTargetLevel; on VNNI machines also
// split into two signed bytes).
struct TargetLevels {
  TargetLevels(const int16_t* t, int64_t dim);
  std::vector<int16_t> levels;
  std::vector<int8_t> hi, lo;  // levels = 256 hi + lo, when used
};
// The same as dot_u8_i16_rows, with the fastest kernel the machine has.
void dot_u8_rows(const uint8_t* q, int64_t rows, int64_t dim, const TargetLevels& t, int64_t* out);

// Builds the sketch of n x dim points with p = min(dims, dim) directions (dims == 0: disabled).
// Deterministic; runs on the current OpenMP threads.
Sketch build_sketch(const float* x, int64_t n, int64_t dim, int64_t dims);

}  // namespace subset::select::geometry
