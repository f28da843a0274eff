#pragma once
// The one declaration of the Fortran BLAS/LAPACK routines libsubset calls (subset_linalg links
// BLAS::BLAS and LAPACK::LAPACK: OpenBLAS through Debian's libblas.so.3/liblapack.so.3
// alternatives). Column-major; every integer is blas_int, whose width the configure step measured
// on the linked library. Only linalg's own files call these.
#include "libsubset/linalg/blas_config.h"

extern "C" {
void sgemm_(const char* transa, const char* transb, const subset::linalg::blas_int* m,
            const subset::linalg::blas_int* n, const subset::linalg::blas_int* k, const float* alpha, const float* a,
            const subset::linalg::blas_int* lda, const float* b, const subset::linalg::blas_int* ldb,
            const float* beta, float* c, const subset::linalg::blas_int* ldc);

// Eigenpairs of a symmetric matrix by relatively robust representations, a chosen range of them.
void dsyevr_(const char* jobz, const char* range, const char* uplo, const subset::linalg::blas_int* n, double* a,
             const subset::linalg::blas_int* lda, const double* vl, const double* vu,
             const subset::linalg::blas_int* il, const subset::linalg::blas_int* iu, const double* abstol,
             subset::linalg::blas_int* m, double* w, double* z, const subset::linalg::blas_int* ldz,
             subset::linalg::blas_int* isuppz, double* work, const subset::linalg::blas_int* lwork,
             subset::linalg::blas_int* iwork, const subset::linalg::blas_int* liwork, subset::linalg::blas_int* info);

// Index (1-based) of the largest |x_i|: the configure probe's routine, called by the tests.
subset::linalg::blas_int isamax_(const subset::linalg::blas_int* n, const float* x,
                                 const subset::linalg::blas_int* incx);
}
