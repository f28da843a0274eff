#pragma once
// Eigenpairs of a symmetric matrix through LAPACK dsyevr.
#include <cstdint>
#include <vector>

namespace subset::linalg {

// dsyevr on the symmetric d x d matrix whose lower triangle (column-major; row-major upper) `a`
// holds; `a` is destroyed. Eigenvalues il..iu (1-based, ascending) and, when `vectors`, their
// eigenvectors (column-major d x m). LAPACK runs with BLAS on one thread (BlasSingleThread): the
// same bits at any thread count. Throws subset::Error (where: `where`) when LAPACK fails.
void symmetric_eigen(std::vector<double>& a, int64_t d, int64_t il, int64_t iu, std::vector<double>& values,
                     std::vector<double>* vectors, const char* where);

}  // namespace subset::linalg
