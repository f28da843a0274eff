#pragma once
// What select's own SIMD code (the 8-bit copy, the sketch's projections, k-means' seeding scan)
// needs beyond geometry.h: the x86 intrinsics, and the kernel choice and float error bound of the
// one dispatch in linalg (kernels.h). Not installed.

// Included first: the intrinsics header is included there with GCC 12's false warnings off.
#include "libsubset/linalg/x86.h"
#ifdef SUBSET_LINALG_X86
#define SUBSET_GEOMETRY_X86 1
#endif

#include "libsubset/linalg/kernels.h"

namespace subset::select::geometry::detail {

// Whether the kernels in use (see limit_kernels_for_testing) may use AVX-512F.
using linalg::use_avx512;
// gamma_k = k u / (1 - k u): the classic bound on the relative error of a length-k float dot product.
using linalg::gamma_float;

}  // namespace subset::select::geometry::detail
