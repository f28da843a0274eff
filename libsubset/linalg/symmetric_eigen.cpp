#include "libsubset/linalg/symmetric_eigen.h"

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/internal/blas.h"

namespace subset::linalg {

void symmetric_eigen(std::vector<double>& a, int64_t d, int64_t il, int64_t iu, std::vector<double>& values,
                     std::vector<double>* vectors, const char* where) {
  const auto sz = [](int64_t v) { return static_cast<size_t>(v); };
  const BlasSingleThread single;
  const char jobz = vectors ? 'V' : 'N', range = 'I', uplo = 'L';
  const auto n = static_cast<blas_int>(d), lo = static_cast<blas_int>(il), hi = static_cast<blas_int>(iu);
  const double none = 0.0, abstol = 0.0;
  blas_int found = 0, info = 0, lwork = -1, liwork = -1, iwork_size = 0;
  values.assign(sz(d), 0.0);
  if (vectors) vectors->assign(sz(d * (iu - il + 1)), 0.0);
  std::vector<blas_int> isuppz(sz(2 * d));
  double work_size = 0;
  double* z = vectors ? vectors->data() : nullptr;
  dsyevr_(&jobz, &range, &uplo, &n, a.data(), &n, &none, &none, &lo, &hi, &abstol, &found, values.data(), z, &n,
          isuppz.data(), &work_size, &lwork, &iwork_size, &liwork, &info);
  lwork = static_cast<blas_int>(work_size);
  liwork = iwork_size;
  std::vector<double> work(sz(lwork));
  std::vector<blas_int> iwork(sz(liwork));
  dsyevr_(&jobz, &range, &uplo, &n, a.data(), &n, &none, &none, &lo, &hi, &abstol, &found, values.data(), z, &n,
          isuppz.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
  SUBSET_CHECK(info == 0 && found == hi - lo + 1, where,
               "the eigendecomposition failed (LAPACK dsyevr info " << info << ")");
  values.resize(sz(found));
}

}  // namespace subset::linalg
