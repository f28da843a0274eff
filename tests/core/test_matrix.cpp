// Tests for libsubset/core/matrix.h: row-major views and the non-finite scan.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "libsubset/core/matrix.h"

using subset::find_non_finite;

namespace {
float from_bits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("find_non_finite: all finite gives -1") {
  CHECK(find_non_finite(nullptr, 0) == -1);
  std::vector<float> v(10000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) - 5000.0f;
  CHECK(find_non_finite(v.data(), v.size()) == -1);
  const float one = 1.0f;
  CHECK(find_non_finite(&one, 1) == -1);
}

TEST_CASE("find_non_finite finds the first NaN or Inf, across block boundaries") {
  const size_t n = 10000;
  for (size_t at : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{4097}, size_t{8191}, size_t{8192},
                    size_t{9999}}) {
    for (float bad : {kNaN, kInf, -kInf, -kNaN}) {
      std::vector<float> v(n, 0.5f);
      v[at] = bad;
      CAPTURE(at);
      CHECK(find_non_finite(v.data(), n) == static_cast<int64_t>(at));
    }
  }
  // Several bad values: the first one wins, also when they sit in different blocks.
  std::vector<float> v(n, 1.0f);
  v[9999] = kNaN;
  v[4096] = kInf;
  v[5000] = kNaN;
  CHECK(find_non_finite(v.data(), n) == 4096);
  v[4095] = -kInf;
  CHECK(find_non_finite(v.data(), n) == 4095);
  v[17] = kNaN;
  CHECK(find_non_finite(v.data(), n) == 17);
  // A scan that stops before the bad values sees none.
  CHECK(find_non_finite(v.data(), 17) == -1);
  CHECK(find_non_finite(v.data() + 18, 4095 - 18) == -1);
}

TEST_CASE("find_non_finite: every NaN bit pattern counts, denormals and -0.0 do not") {
  std::vector<float> v = {0.0f, -0.0f, FLT_MIN, FLT_MIN / 2.0f, from_bits(0x00000001u) /* smallest denormal */,
                          -from_bits(0x00000001u), FLT_MAX, -FLT_MAX, from_bits(0x7f7fffffu), 1e-45f};
  CHECK(find_non_finite(v.data(), v.size()) == -1);
  for (uint32_t bits : {0x7f800000u /* +inf */, 0xff800000u /* -inf */, 0x7fc00000u /* quiet NaN */,
                        0x7f800001u /* signalling NaN */, 0xffffffffu /* negative NaN, full payload */,
                        0x7fbfffffu}) {
    std::vector<float> w = v;
    w.push_back(from_bits(bits));
    CAPTURE(bits);
    CHECK(find_non_finite(w.data(), w.size()) == static_cast<int64_t>(v.size()));
  }
}

TEST_CASE("view maps row-major data without copying") {
  const float data[6] = {1, 2, 3, 4, 5, 6};
  const subset::MatrixViewF m = subset::view(data, 2, 3);
  CHECK(m.rows() == 2);
  CHECK(m.cols() == 3);
  CHECK(m(0, 2) == 3.0f);
  CHECK(m(1, 0) == 4.0f);
  CHECK(m.data() == data);

  subset::RowMatrixF r(2, 2);
  r << 1, 2, 3, 4;
  CHECK(r.data()[1] == 2.0f);  // row-major storage
  const subset::MatrixViewF rv = subset::view(r);
  CHECK(rv.data() == r.data());
  CHECK(rv(1, 0) == 3.0f);
  CHECK(rv.sum() == 10.0f);
}
