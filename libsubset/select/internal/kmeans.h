#pragma once
// What the k-means files (distance, seeding, Lloyd, selector) share; not installed.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/selector.h"

// Fortran BLAS (subset_select links BLAS::BLAS: OpenBLAS through Debian's libblas.so.3 alternative).
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SUBSET_KMEANS_X86 1
#endif

#ifdef SUBSET_KMEANS_X86
#include <immintrin.h>
#endif

namespace subset::select::kmeans_internal {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

inline size_t sz(int64_t v) { return static_cast<size_t>(v); }

inline constexpr int64_t kExitEvery = 256;  // floats between early-exit checks of sq_dist_below

// kmeans_detail::sq_dist_below's two kernels (kmeans_distance.cpp); the AVX-512 one only where
// the CPU has AVX-512F.
double sq_dist_below_generic(const float* a, const float* b, int64_t dim, double bound);
#ifdef SUBSET_KMEANS_X86
double sq_dist_below_avx512(const float* a, const float* b, int64_t dim, double bound);
#endif

// k-means++ seeding (kmeans_seeding.cpp): the new centres, and the exact nearest centre of every
// point at the end (owner indexes (fixed..., seeds...)) with its squared distance.
struct SeedRun {
  std::vector<int64_t> seeds;
  std::vector<int32_t> owner;  // index into (fixed..., seeds...)
  std::vector<double> d2;
  int64_t distances = 0, brute = 0;
};
// `context`, when not null, gets progress reports (seeds so far of progress_total).
SeedRun run_seeding(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed, Rng& rng,
                    const RunContext* context, int64_t progress_total);

// Lloyd (kmeans_lloyd.cpp) from the k x dim initial centroids, then the final assignment and the
// selection; `label`/`dist`, when not empty, are the exact assignment to those centroids.
KMeansResult run_lloyd(MatrixViewF x, const std::vector<int64_t>& fixed, const RowMatrixF& initial_centroids,
                       std::vector<int32_t> label, std::vector<double> dist, int64_t iterations, double tolerance,
                       const RunContext& context, int64_t progress_done, int64_t progress_total);

// The input checks of every entry point (kmeans.cpp).
void check_input(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k);

}  // namespace subset::select::kmeans_internal
