#pragma once
// The squared distance exactly as libsubset/select documents it (kcenter.h): float differences,
// squared and summed in double in 16 lanes (lane = coordinate mod 16), then reduced pairwise
// ((s_l + s_l+8), then + s_l+4, then (v0 + v2) + (v1 + v3)). Written plainly, independent of the
// library's SIMD code, for the brute-force oracles of the geometric selectors.
#include <cstdint>

namespace subset::test {

inline double oracle_sq_dist(const float* a, const float* b, int64_t dim) {
  double s[16] = {};
  for (int64_t j = 0; j < dim; ++j) {
    const float t = a[j] - b[j];
    s[j % 16] += static_cast<double>(t) * static_cast<double>(t);
  }
  double u[8], v[4];
  for (int l = 0; l < 8; ++l) u[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) v[l] = u[l] + u[l + 4];
  return (v[0] + v[2]) + (v[1] + v[3]);
}

}  // namespace subset::test
