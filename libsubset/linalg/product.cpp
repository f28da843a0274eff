#include "libsubset/linalg/product.h"

#include <algorithm>
#include <vector>

#include "libsubset/core/threads.h"
#include "libsubset/linalg/internal/blas.h"

namespace subset::linalg {
namespace {

// C [m, n] = op(A) op(B), column-major (a row-major [r, c] matrix is a column-major [c, r] one).
void gemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb,
          float* c, int64_t ldc) {
  const auto M = static_cast<blas_int>(m), N = static_cast<blas_int>(n), K = static_cast<blas_int>(k);
  const auto LDA = static_cast<blas_int>(lda), LDB = static_cast<blas_int>(ldb), LDC = static_cast<blas_int>(ldc);
  const float one = 1.0f, zero = 0.0f;
  sgemm_(&ta, &tb, &M, &N, &K, &one, a, &LDA, b, &LDB, &zero, c, &LDC);
}

size_t sz(int64_t v) { return static_cast<size_t>(v); }

// fn(first, count) for consecutive pieces of `size` out of `total`, shared among OpenMP threads;
// `scratch` is a per-thread buffer of `scratch_floats` floats.
template <typename Fn>
void for_pieces(int64_t total, int64_t size, size_t scratch_floats, Fn fn) {
  const BlasSingleThread single;
  const int64_t pieces = (total + size - 1) / size;
#pragma omp parallel if (pieces > 1)
  {
    std::vector<float> scratch(scratch_floats);
#pragma omp for schedule(dynamic, 1)
    for (int64_t p = 0; p < pieces; ++p) {
      const int64_t first = p * size;
      fn(first, std::min(size, total - first), scratch.data());
    }
  }
}

}  // namespace

void gemm_nt(const float* a, int64_t m, const float* b, int64_t n, int64_t k, float* c) {
  // c^T [n, m] column-major = b [n, k] . a^T [k, m]
  gemm('T', 'N', n, m, k, b, k, a, k, c, n);
}

void project(const float* x, int64_t rows, int64_t d, const float* center, const float* w, int64_t k, float* out) {
  for_pieces(rows, kProjectRows, center ? sz(kProjectRows * d) : 0, [&](int64_t r0, int64_t n, float* buf) {
    const float* src = x + r0 * d;
    if (center) {
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) buf[i * d + j] = src[i * d + j] - center[j];
      src = buf;
    }
    gemm_nt(src, n, w, k, d, out + r0 * k);
  });
}

void expand(const float* codes, int64_t rows, int64_t k, const float* m, int64_t d, const float* offset, float* out) {
  for_pieces(rows, kProjectRows, 0, [&](int64_t r0, int64_t n, float*) {
    float* o = out + r0 * d;
    // out^T [d, n] = m^T [d, k] . codes^T [k, n]
    gemm('N', 'N', d, n, k, m, d, codes + r0 * k, k, o, d);
    if (offset)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < d; ++j) o[i * d + j] += offset[j];
  });
}

void accumulate_gram(const float* x, int64_t rows, int64_t d, double* s) {
  // Panel [j0, j0 + w): rows 0..j1-1 of those columns, tmp [j1, w] column-major, piece by piece of
  // kGramRows rows. One task per panel (the last, largest ones first), so one parallel region.
  const int64_t panels = (d + kPanel - 1) / kPanel;
  for_pieces(panels, 1, sz(d * kPanel), [&](int64_t p, int64_t, float* tmp) {
    const int64_t j0 = (panels - 1 - p) * kPanel, w = std::min(kPanel, d - j0), j1 = j0 + w;
    for (int64_t r0 = 0; r0 < rows; r0 += kGramRows) {
      const float* piece = x + r0 * d;
      gemm('N', 'T', j1, w, std::min(kGramRows, rows - r0), piece, d, piece + j0, d, tmp, j1);
      for (int64_t c = 0; c < w; ++c)
        for (int64_t i = 0; i < j1; ++i) s[i * d + j0 + c] += static_cast<double>(tmp[c * j1 + i]);
    }
  });
}

void accumulate_transposed_product(const float* p, int64_t l, const float* x, int64_t rows, int64_t d, double* z) {
  // Columns [j0, j0 + w) of z: tmp [w, l] column-major = x[:, j0:j1]^T p, piece by piece.
  for_pieces(d, kPanel, sz(kPanel * l), [&](int64_t j0, int64_t w, float* tmp) {
    for (int64_t r0 = 0; r0 < rows; r0 += kGramRows) {
      gemm('N', 'T', w, l, std::min(kGramRows, rows - r0), x + r0 * d + j0, d, p + r0 * l, l, tmp, w);
      for (int64_t m = 0; m < l; ++m)
        for (int64_t c = 0; c < w; ++c) z[m * d + j0 + c] += static_cast<double>(tmp[m * w + c]);
    }
  });
}

}  // namespace subset::linalg
