#pragma once
// Matrix products through BLAS sgemm on fixed blocks. Each block is one sgemm, run inside
// BlasSingleThread (core/threads.h); the blocks are shared among OpenMP threads and their bounds
// depend on the shapes alone. Every output element is then computed by the same call at any thread
// count: the same bits with 1 thread or 16 (a multi-threaded sgemm rounds differently depending on
// how it splits the work). Where the linked BLAS offers no thread control (blas_info.h) that
// promise is not made. All matrices are row-major float32.
#include <cstdint>

namespace subset::linalg {

// c [m, n] = a [m, k] b [n, k]^T: one sgemm on the calling thread, for callers that block and
// parallelise themselves (k-means fuses its argmin into each block) and have opened a
// BlasSingleThread scope.
void gemm_nt(const float* a, int64_t m, const float* b, int64_t n, int64_t k, float* c);

// out [rows, k] = (x - center) w^T, with x [rows, d], w [k, d], center [d] or null (no centering).
// Blocks of kProjectRows rows of x.
void project(const float* x, int64_t rows, int64_t d, const float* center, const float* w, int64_t k, float* out);

// out [rows, d] = codes m + offset, with codes [rows, k], m [k, d], offset [d] or null.
void expand(const float* codes, int64_t rows, int64_t k, const float* m, int64_t d, const float* offset, float* out);

// s [d, d] (double) += x^T x for x [rows, d]: the upper triangle and diagonal of s (s[i][j] for
// i <= j, row-major), plus parts of the lower one near the diagonal. Float32 products of pieces
// of kGramRows rows, each summed into s in double, in row order. Panels of kPanel columns.
void accumulate_gram(const float* x, int64_t rows, int64_t d, double* s);

// z [l, d] (double) += p^T x for p [rows, l] and x [rows, d]; pieces and panels as above.
void accumulate_transposed_product(const float* p, int64_t l, const float* x, int64_t rows, int64_t d, double* z);

// Each call is one parallel region: on a machine where other processes keep the cores busy, every
// region waits for its slowest (descheduled) thread, so regions are few and large.
inline constexpr int64_t kProjectRows = 512;
inline constexpr int64_t kPanel = 64;
// Rows per float32 product before its sums go to double.
inline constexpr int64_t kGramRows = 2048;

}  // namespace subset::linalg
