#pragma once
// The x86 intrinsics for target-attributed kernels (linalg's and select's own), where the
// compiler has them; include it first.
// GCC 12 warns about the intrinsics' own use of undefined vectors (GCC bug 105593); the warnings
// point into this header, so it is included with them off.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#define SUBSET_LINALG_X86 1
#endif
