#pragma once
// What the parts of the geometry implementation (kernels, 8-bit copy, sketch) share beyond
// geometry.h: the x86 intrinsics, the kernel choice and the float error bound. Not installed.

// GCC 12 warns about the intrinsics' own use of undefined vectors (GCC bug 105593); the warnings
// point into this header, so it is included first with them off.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#define SUBSET_GEOMETRY_X86 1
#endif

#include <cstdint>

namespace subset::select::geometry::detail {

// Whether the kernels in use (see limit_kernels_for_testing) may use AVX-512F.
bool use_avx512();

// gamma_k = k u / (1 - k u): the classic bound on the relative error of a length-k float dot product.
double gamma_float(int64_t k);

}  // namespace subset::select::geometry::detail
