#pragma once
// The one lookup of oneDNN's dnnl_sgemm. libtorch links oneDNN, but exports of its C API are not
// guaranteed: Debian's shared libdnnl has them, a libtorch with oneDNN linked in statically does
// not. The symbol is therefore looked up, then trusted only after it multiplies a small known
// pair like a naive product does; otherwise, or with SUBSET_NN_GEMM=fallback in the environment
// (CI runs the nn suite once so), the callers take libtorch's own products.
#include <cstdint>

namespace subset::nn::internal {

// oneDNN's C API (dnnl.h, not installed with the runtime library): row-major
// C = alpha op(A) op(B) + beta C; returns dnnl_success (0) or an error status.
using Sgemm = int (*)(char transa, char transb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                      int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// The checked symbol, or null when the fallback applies (see above, and set_onednn_gemm).
Sgemm onednn_sgemm();

// Whether `fn` computes C = op(A) op(B) for 'N'/'T' operands, within float tolerance (exposed for
// tests; onednn_sgemm() applies it once).
bool sgemm_self_check(Sgemm fn);

// Off: onednn_sgemm() returns null (for benchmarks and tests comparing the two paths).
// Process-wide; on by default.
void set_onednn_gemm(bool enabled);

}  // namespace subset::nn::internal
