// Tests for libsubset/linalg/kernels.h: every kernel level against the definition and a brute
// force in long double, the early exit, and the exact 8-bit dot products against integer loops.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/linalg/kernels.h"

using namespace subset::linalg;

namespace {

std::vector<float> random_vector(int64_t n, uint64_t seed) {
  subset::Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& e : v) e = static_cast<float>(rng.normal() * 3.0);
  return v;
}

struct KernelLevel {  // restores the best kernels when a check fails
  explicit KernelLevel(int level) { limit_kernels_for_testing(level); }
  ~KernelLevel() { limit_kernels_for_testing(0); }
};

}  // namespace

TEST_CASE("linalg: sq_dist is the definition at every kernel level and close to the exact distance") {
  for (int64_t dim : {1, 15, 16, 17, 255, 256, 257, 784, 1000}) {
    const auto a = random_vector(dim, 1 + static_cast<uint64_t>(dim)), b = random_vector(dim, 2);
    long double exact = 0;
    for (int64_t j = 0; j < dim; ++j) {
      const long double t = static_cast<long double>(a[j]) - b[j];
      exact += t * t;
    }
    const double ref = sq_dist_reference(a.data(), b.data(), dim);
    CHECK(std::abs(static_cast<long double>(ref) - exact) <= kDistRelError * exact);
    for (int level : {0, 1, 2}) {
      KernelLevel scope(level);
      CAPTURE(dim);
      CAPTURE(level);
      CHECK(sq_dist(a.data(), b.data(), dim) == ref);
      CHECK(sq_dist_below(a.data(), b.data(), dim, std::numeric_limits<double>::infinity()) == ref);
      CHECK(sq_dist_below(a.data(), b.data(), dim, std::nextafter(ref, 1e300)) == ref);
      CHECK(sq_dist_below(a.data(), b.data(), dim, 0.25 * ref) >= 0.25 * ref);
      CHECK(sq_dist_below_kernel()(a.data(), b.data(), dim, 1e300) == ref);
    }
  }
}

TEST_CASE("linalg: the dispatch names its kernels and the test levels limit them") {
  const std::string best = kernel_name();
  CHECK((best == "avx512f" || best == "avx2" || best == "generic"));
  {
    KernelLevel scope(2);
    CHECK(std::string(kernel_name()) == "generic");
    CHECK_FALSE(use_avx512());
    CHECK_FALSE(use_vnni());
  }
  {
    KernelLevel scope(1);
    CHECK(std::string(kernel_name()) != "avx512f");
  }
  CHECK(std::string(kernel_name()) == best);
}

TEST_CASE("linalg: the 8-bit dot products are exact at every kernel level") {
  subset::Rng rng(7);
  for (int64_t dim : {1, 31, 32, 63, 64, 65, 784, 4100}) {
    const int64_t rows = 9;
    std::vector<uint8_t> q(static_cast<size_t>(rows * dim));
    for (auto& e : q) e = static_cast<uint8_t>(rng.uniform01() * 256.0);
    std::vector<int16_t> t(static_cast<size_t>(dim));
    std::vector<int8_t> hi(t.size()), lo(t.size()), s8(t.size());
    for (size_t j = 0; j < t.size(); ++j) {
      const int v = static_cast<int>(rng.uniform01() * 2 * kMaxTargetLevel) - kMaxTargetLevel;
      t[j] = static_cast<int16_t>(v);
      const int h = (v + 128 + 32768) / 256 - 128;
      hi[j] = static_cast<int8_t>(h);
      lo[j] = static_cast<int8_t>(v - 256 * h);
      s8[j] = static_cast<int8_t>(static_cast<int>(rng.uniform01() * 256.0) - 128);
    }
    std::vector<int64_t> expected(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < dim; ++j) expected[static_cast<size_t>(r)] += int64_t{q[r * dim + j]} * t[j];
    int64_t uu = 0, us = 0;
    for (int64_t j = 0; j < dim; ++j) {
      uu += int64_t{q[j]} * q[dim + j];
      us += int64_t{q[j]} * s8[j];
    }
    for (int level : {0, 1, 2}) {
      KernelLevel scope(level);
      CAPTURE(dim);
      CAPTURE(level);
      std::vector<int64_t> out(static_cast<size_t>(rows), -1), split(out);
      dot_u8_i16_rows(q.data(), rows, dim, t.data(), out.data());
      dot_u8_i16_rows_split(q.data(), rows, dim, hi.data(), lo.data(), split.data());
      CHECK(out == expected);
      CHECK(split == expected);
      CHECK(dot_u8_u8(q.data(), q.data() + dim, dim) == static_cast<double>(uu));
      CHECK(dot_u8_s8(q.data(), s8.data(), dim) == us);
    }
  }
}

TEST_CASE("linalg: gamma_float is the classic bound") {
  CHECK(gamma_float(0) == 0.0);
  const double u = std::ldexp(1.0, -24);
  CHECK(gamma_float(100) == doctest::Approx(100 * u / (1 - 100 * u)));
}
