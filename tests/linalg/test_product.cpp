// Tests for libsubset/linalg/product.h and symmetric_eigen.h against plain loops in double, the
// same bits at 1 and 2 threads, and the configure-time BLAS integer width against the library.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/blas_config.h"
#include "libsubset/linalg/internal/blas.h"
#include "libsubset/linalg/product.h"
#include "libsubset/linalg/symmetric_eigen.h"

using namespace subset::linalg;

namespace {

std::vector<float> random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  subset::Rng rng(seed);
  std::vector<float> m(static_cast<size_t>(rows * cols));
  for (float& v : m) v = static_cast<float>(rng.normal());
  return m;
}

// Relative to the size of the terms: |computed - exact| <= tol * sum |a_i b_i|.
void check_close(double got, double exact, double scale) { CHECK(std::abs(got - exact) <= 1e-5 * (scale + 1e-30)); }

}  // namespace

TEST_CASE("linalg: the Fortran integer width measured at configure time is the library's") {
  CHECK(sizeof(blas_int) == SUBSET_BLAS_INT_BYTES);
  const float x[4] = {1.0f, 5.0f, 2.0f, 0.0f};
  const blas_int n = 3, inc = 1;
  CHECK(isamax_(&n, x, &inc) == 2);  // 1-based index of the largest |x_i|
  // The configure probe's call, repeated: 64-bit values whose high half is all ones read as 3 and
  // 1 by an LP64 BLAS, as negative (no work) by an ILP64 one.
  using Probe = int32_t (*)(const int64_t*, const float*, const int64_t*);
  const auto probe = reinterpret_cast<Probe>(reinterpret_cast<void*>(&isamax_));
  const int64_t n64 = static_cast<int64_t>((uint64_t{0xFFFFFFFFu} << 32) | 3u);
  const int64_t inc64 = static_cast<int64_t>((uint64_t{0xFFFFFFFFu} << 32) | 1u);
  CHECK(probe(&n64, x, &inc64) == (SUBSET_BLAS_INT_BYTES == 4 ? 2 : 0));
}

TEST_CASE("linalg: gemm_nt and project agree with a triple loop") {
  const int64_t m = 37, n = 11, k = 53;
  const auto a = random_matrix(m, k, 1), b = random_matrix(n, k, 2), center = random_matrix(1, k, 3);
  std::vector<float> c(static_cast<size_t>(m * n)), p(c.size());
  gemm_nt(a.data(), m, b.data(), n, k, c.data());
  project(a.data(), m, k, center.data(), b.data(), n, p.data());
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double exact = 0, scale = 0, exact_c = 0, scale_c = 0;
      for (int64_t t = 0; t < k; ++t) {
        exact += double(a[i * k + t]) * b[j * k + t];
        scale += std::abs(double(a[i * k + t]) * b[j * k + t]);
        const double centred = double(a[i * k + t]) - center[t];
        exact_c += centred * b[j * k + t];
        scale_c += std::abs(centred * b[j * k + t]);
      }
      check_close(c[i * n + j], exact, scale);
      check_close(p[i * n + j], exact_c, scale_c);
    }
}

TEST_CASE("linalg: expand, accumulate_gram and accumulate_transposed_product agree with triple loops") {
  const int64_t rows = 2100, d = 70, k = 5;  // more than one kGramRows piece, two kPanel panels
  const auto x = random_matrix(rows, d, 4), codes = random_matrix(rows, k, 5), m = random_matrix(k, d, 6);
  const auto offset = random_matrix(1, d, 7);
  std::vector<float> out(static_cast<size_t>(rows * d));
  expand(codes.data(), rows, k, m.data(), d, offset.data(), out.data());
  std::vector<double> s(static_cast<size_t>(d * d), 0.0), z(static_cast<size_t>(k * d), 0.0);
  accumulate_gram(x.data(), rows, d, s.data());
  accumulate_transposed_product(codes.data(), k, x.data(), rows, d, z.data());
  for (int64_t i = 0; i < rows; i += 97)
    for (int64_t j = 0; j < d; ++j) {
      double exact = offset[j], scale = std::abs(offset[j]);
      for (int64_t t = 0; t < k; ++t) {
        exact += double(codes[i * k + t]) * m[t * d + j];
        scale += std::abs(double(codes[i * k + t]) * m[t * d + j]);
      }
      check_close(out[i * d + j], exact, scale);
    }
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = i; j < d; ++j) {  // the upper triangle and diagonal
      double exact = 0, scale = 0;
      for (int64_t r = 0; r < rows; ++r) {
        exact += double(x[r * d + i]) * x[r * d + j];
        scale += std::abs(double(x[r * d + i]) * x[r * d + j]);
      }
      check_close(s[i * d + j], exact, scale);
    }
  for (int64_t t = 0; t < k; ++t)
    for (int64_t j = 0; j < d; ++j) {
      double exact = 0, scale = 0;
      for (int64_t r = 0; r < rows; ++r) {
        exact += double(codes[r * k + t]) * x[r * d + j];
        scale += std::abs(double(codes[r * k + t]) * x[r * d + j]);
      }
      check_close(z[t * d + j], exact, scale);
    }
}

TEST_CASE("linalg: blocked products give the same bits at 1 and 2 threads") {
  const int64_t rows = 1500, d = 90, k = 7;
  const auto x = random_matrix(rows, d, 8), w = random_matrix(k, d, 9);
  std::vector<std::vector<float>> out;
  std::vector<std::vector<double>> gram;
  for (int threads : {1, 2}) {
    subset::set_threads(threads);
    out.emplace_back(static_cast<size_t>(rows * k));
    project(x.data(), rows, d, nullptr, w.data(), k, out.back().data());
    gram.emplace_back(static_cast<size_t>(d * d), 0.0);
    accumulate_gram(x.data(), rows, d, gram.back().data());
  }
  subset::set_threads(0);
  CHECK(out[0] == out[1]);
  CHECK(gram[0] == gram[1]);
}

TEST_CASE("linalg: symmetric_eigen finds the eigenpairs of a known matrix") {
  // Q diag(1..d) Q^T for an orthogonal Q (a Householder reflection): eigenvalues 1..d.
  const int64_t d = 6;
  const auto v = random_matrix(1, d, 10);
  double vv = 0;
  for (float e : v) vv += double(e) * e;
  std::vector<double> a(static_cast<size_t>(d * d), 0.0);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t t = 0; t < d; ++t) {
        const double qit = (i == t) - 2.0 * v[i] * v[t] / vv, qjt = (j == t) - 2.0 * v[j] * v[t] / vv;
        a[static_cast<size_t>(i * d + j)] += qit * double(t + 1) * qjt;
      }
  std::vector<double> values, vectors, copy = a;
  symmetric_eigen(copy, d, d - 1, d, values, &vectors, "test");
  REQUIRE(values.size() == 2);
  CHECK(values[0] == doctest::Approx(d - 1).epsilon(1e-12));
  CHECK(values[1] == doctest::Approx(d).epsilon(1e-12));
  for (int64_t c = 0; c < 2; ++c)  // A v = lambda v
    for (int64_t i = 0; i < d; ++i) {
      double av = 0;
      for (int64_t j = 0; j < d; ++j) av += a[static_cast<size_t>(i * d + j)] * vectors[static_cast<size_t>(c * d + j)];
      CHECK(av == doctest::Approx(values[static_cast<size_t>(c)] * vectors[static_cast<size_t>(c * d + i)]).epsilon(1e-9));
    }
}
