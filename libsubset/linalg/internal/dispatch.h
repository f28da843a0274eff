#pragma once
// The kernels chosen for this CPU (kernels.cpp), shared by the float and 8-bit kernel files.
#include <cstdint>

namespace subset::linalg::internal {

using SqDistFn = double (*)(const float*, const float*, int64_t);
using SqDistBelowFn = double (*)(const float*, const float*, int64_t, double);
using DotRowsFn = void (*)(const uint8_t*, int64_t, int64_t, const int16_t*, int64_t*);
using DotU8Fn = double (*)(const uint8_t*, const uint8_t*, int64_t);

struct Dispatch {
  SqDistFn sq_dist;
  SqDistBelowFn sq_dist_below;
  DotRowsFn dot_rows;
  DotU8Fn dot_u8;
  const char* name;
  bool avx512;
  bool vnni;
};

// The kernels at the level limit_kernels_for_testing set (0 by default: the best the CPU has).
const Dispatch& dispatch();

// The 8-bit kernels of a level (kernels_u8.cpp), filled into its Dispatch.
void choose_u8_kernels(Dispatch& d);

}  // namespace subset::linalg::internal
