#include "libsubset/core/matrix.h"

#include <cstring>

namespace subset {

int64_t find_non_finite(const float* data, size_t n) {
  constexpr size_t kBlock = 4096;
  constexpr uint32_t kExponent = 0x7f800000u;  // all-ones exponent: Inf or NaN
  for (size_t begin = 0; begin < n; begin += kBlock) {
    const size_t end = begin + kBlock < n ? begin + kBlock : n;
    uint32_t any = 0;
    for (size_t i = begin; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, data + i, sizeof bits);
      any |= static_cast<uint32_t>((bits & kExponent) == kExponent);
    }
    if (!any) continue;
    for (size_t i = begin; i < end; ++i) {
      uint32_t bits;
      std::memcpy(&bits, data + i, sizeof bits);
      if ((bits & kExponent) == kExponent) return static_cast<int64_t>(i);
    }
  }
  return -1;
}

}  // namespace subset
