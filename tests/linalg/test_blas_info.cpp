// Tests for libsubset/linalg/blas_info.h and the BlasSingleThread contract without thread control:
// this build links OpenBLAS and detects it; with the control taken away (an injected empty one,
// as on a BLAS without it) the products, PCA and k-means still run, and their stats say that the
// same bits at any thread count are not promised.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/blas_info.h"
#include "libsubset/linalg/product.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/transform/pca.h"

using namespace subset;

namespace {

RowMatrixF random_rows(int64_t rows, int64_t cols, uint64_t seed) {
  Rng rng(seed);
  RowMatrixF m(rows, cols);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) m(i, j) = static_cast<float>(rng.normal());
  return m;
}

struct NoThreadControl {  // as if the BLAS had none; restores the looked-up one at the end
  NoThreadControl() {
    const BlasThreadControl none;
    override_blas_thread_control_for_testing(&none);
  }
  ~NoThreadControl() { override_blas_thread_control_for_testing(nullptr); }
};

}  // namespace

TEST_CASE("linalg: blas_info detects OpenBLAS and its thread control in this build") {
  const linalg::BlasInfo info = linalg::blas_info();
  CHECK(info.name == "openblas");
  CHECK(info.thread_control);
  CHECK(info.same_bits_any_threads());
  CHECK(info.summary() == "openblas");
  CHECK(info.int_bytes == SUBSET_BLAS_INT_BYTES);
  CHECK(info.config.find("OpenBLAS") != std::string::npos);
}

TEST_CASE("linalg: without BLAS thread control the scope does nothing and the code paths still work") {
  set_threads(2);
  const int before = blas_threads();
  {
    NoThreadControl none;
    const linalg::BlasInfo info = linalg::blas_info();
    CHECK(info.name == "unknown");
    CHECK_FALSE(info.thread_control);
    CHECK_FALSE(info.same_bits_any_threads());
    CHECK(info.summary().find("no thread control") != std::string::npos);
    CHECK(blas_threads() == -1);
    { const BlasSingleThread scope; }  // a no-op, not a crash
    set_threads(1);                     // reaches no BLAS

    const RowMatrixF x = random_rows(300, 20, 1), w = random_rows(3, 20, 2);
    std::vector<float> out(300 * 3);
    linalg::project(x.data(), 300, 20, nullptr, w.data(), 3, out.data());
    double exact = 0;
    for (int64_t j = 0; j < 20; ++j) exact += double(x(299, j)) * w(2, j);
    CHECK(out[299 * 3 + 2] == doctest::Approx(exact).epsilon(1e-5));

    transform::Pca pca(transform::Pca::params().resolve({{"solver", "randomized"}}));
    transform::FitOptions o;
    o.dim = 2;
    pca.fit(transform::rows_of(view(x)), o);
    CHECK(pca.save().stats["blas"] == info.summary());

    select::KMeansOptions k;
    k.k = 4;
    const auto r = select::kmeans_fit(view(x), {}, k, select::RunContext{});
    CHECK(select::KMeansSelector::to_selection(r).stats["blas"] == info.summary());
  }
  set_threads(2);
  CHECK(blas_threads() == before);  // the looked-up control is back
  CHECK(linalg::blas_info().thread_control);
  set_threads(0);
}
