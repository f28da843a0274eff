// Tests for libsubset/io/npy.h against .npy files constructed byte by byte.
#include <doctest/doctest.h>

#include <cfloat>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/npy.h"
#include "support/files.h"
#include "support/npy_builder.h"
#include "support/temp_dir.h"

using subset::io::NpyKind;
using subset::io::NpyReader;
using namespace subset::test;

namespace {

std::vector<float> read_all_rows(NpyReader& r) {
  std::vector<float> out(static_cast<size_t>(r.rows() * r.cols()));
  r.read_rows_as_float(r.rows(), out.data());
  return out;
}

struct Fixture {
  TempDir dir;
  int counter = 0;
  std::string put(const std::string& bytes) {
    const std::string path = dir.file("a" + std::to_string(counter++) + ".npy");
    write_bytes(path, bytes);
    return path;
  }
};

}  // namespace

TEST_CASE("npy_bytes lays out the header as NumPy does") {
  const std::string b = npy_bytes("<f4", false, "(2,)", std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));
  CHECK(b.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const size_t header_len = static_cast<unsigned char>(b[8]) | (static_cast<unsigned char>(b[9]) << 8);
  CHECK((10 + header_len) % 64 == 0);
  CHECK(b[10 + header_len - 1] == '\n');
  CHECK(b.size() == 10 + header_len + 8);
}

TEST_CASE("little-endian float32, C order: values and header") {
  Fixture f;
  // [[1, -2], [0.5, 3e-8], [-0, 65504]] as raw IEEE-754 bytes written by hand for the first row.
  const std::string data = std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8) + raw_le<float>({0.5f, 3e-8f, -0.0f, 65504.0f});
  NpyReader r(f.put(npy_bytes("<f4", false, "(3, 2)", data)));
  CHECK(r.header().descr == "<f4");
  CHECK(r.header().kind == NpyKind::Float);
  CHECK(r.header().item_size == 4);
  CHECK_FALSE(r.header().big_endian);
  CHECK_FALSE(r.header().fortran_order);
  CHECK(r.header().shape == std::vector<int64_t>{3, 2});
  CHECK(r.header().dtype_name() == "float32");
  CHECK(r.rows() == 3);
  CHECK(r.cols() == 2);
  CHECK(read_all_rows(r) == std::vector<float>{1.0f, -2.0f, 0.5f, 3e-8f, -0.0f, 65504.0f});
}

TEST_CASE("rows can be read in several calls and reading past the end is an error") {
  Fixture f;
  std::vector<float> v(5 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.25f;
  const std::string path = f.put(npy_bytes("<f4", false, "(5, 3)", raw_le(v)));
  NpyReader r(path);
  std::vector<float> a(6), b(9);
  r.read_rows_as_float(2, a.data());
  r.read_rows_as_float(0, b.data());
  r.read_rows_as_float(3, b.data());
  CHECK(a == std::vector<float>(v.begin(), v.begin() + 6));
  CHECK(b == std::vector<float>(v.begin() + 6, v.end()));
  float extra[3];
  CHECK_THROWS_WITH_AS(r.read_rows_as_float(1, extra), doctest::Contains("read past the end of the npy array"),
                       subset::Error);
}

TEST_CASE("float64 is converted to the nearest float32") {
  Fixture f;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> v = {0.1, -1.0 / 3.0, inf, 2.5, 16777217.0, -0.0, 3.4028234663852886e38, 1e-50};
  NpyReader r(f.put(npy_bytes("<f8", false, "(2, 4)", raw_le(v))));
  CHECK(r.header().dtype_name() == "float64");
  CHECK(r.header().item_size == 8);
  const auto got = read_all_rows(r);
  REQUIRE(got.size() == 8);
  CHECK(got[0] == 0.1f);
  CHECK(got[1] == static_cast<float>(-1.0 / 3.0));
  CHECK(got[2] == std::numeric_limits<float>::infinity());  // Inf stays Inf: the store writer names it
  CHECK(got[3] == 2.5f);
  CHECK(got[4] == 16777216.0f);  // 2^24 + 1 rounds to even
  CHECK(got[5] == 0.0f);
  CHECK(got[6] == FLT_MAX);      // the largest float32, exactly representable
  CHECK(got[7] == 0.0f);         // underflow to zero is not an error
}

TEST_CASE("float64 values beyond float32 range are named, not turned into Inf") {
  Fixture f;
  {
    const std::string path = f.put(npy_bytes("<f8", false, "(3, 2)", raw_le<double>({1, 2, 3, 4, -1e300, 6})));
    NpyReader r(path);
    std::vector<float> out(6);
    r.read_rows_as_float(1, out.data());  // the first row is fine
    try {
      r.read_rows_as_float(2, out.data());
      FAIL("out-of-range value accepted");
    } catch (const subset::Error& e) {
      CHECK(e.message() == "value -1e+300 at row 2, column 0 is out of float32 range");
      CHECK(e.where() == path);
    }
  }
  {
    // Fortran order: logical element (1, 2) of a (2, 3) array sits at offset 2 * 2 + 1 = 5.
    NpyReader r(f.put(npy_bytes("<f8", true, "(2, 3)", raw_le<double>({1, 2, 3, 4, 5, 1e39}))));
    std::vector<float> out(6);
    CHECK_THROWS_WITH_AS(r.read_rows_as_float(2, out.data()), doctest::Contains("at row 1 is out of float32 range"),
                         subset::Error);
  }
}

TEST_CASE("integer and bool dtypes") {
  Fixture f;
  {
    NpyReader r(f.put(npy_bytes("|u1", false, "(2, 4)", raw_le<uint8_t>({0, 1, 127, 128, 200, 254, 255, 9}))));
    CHECK(r.header().kind == NpyKind::UnsignedInt);
    CHECK(r.header().dtype_name() == "uint8");
    CHECK(read_all_rows(r) == std::vector<float>{0, 1, 127, 128, 200, 254, 255, 9});
  }
  {
    NpyReader r(f.put(npy_bytes("<i4", false, "(2, 2)", raw_le<int32_t>({-5, 2147483647, 0, -2147483647 - 1}))));
    CHECK(r.header().kind == NpyKind::SignedInt);
    CHECK(r.header().dtype_name() == "int32");
    CHECK(read_all_rows(r) == std::vector<float>{-5.0f, 2147483648.0f, 0.0f, -2147483648.0f});
  }
  {
    NpyReader r(f.put(npy_bytes("|i1", false, "(1, 3)", raw_le<int8_t>({-128, -1, 127}))));
    CHECK(r.header().dtype_name() == "int8");
    CHECK(read_all_rows(r) == std::vector<float>{-128, -1, 127});
  }
  {
    NpyReader r(f.put(npy_bytes("<i2", false, "(1, 2)", raw_le<int16_t>({-300, 32767}))));
    CHECK(read_all_rows(r) == std::vector<float>{-300, 32767});
  }
  {
    NpyReader r(f.put(npy_bytes("<u2", false, "(1, 2)", raw_le<uint16_t>({65535, 7}))));
    CHECK(r.header().dtype_name() == "uint16");
    CHECK(read_all_rows(r) == std::vector<float>{65535, 7});
  }
  {
    NpyReader r(f.put(npy_bytes("<u4", false, "(1, 1)", raw_le<uint32_t>({4000000000u}))));
    CHECK(read_all_rows(r) == std::vector<float>{4000000000.0f});
  }
  {
    NpyReader r(f.put(npy_bytes("<i8", false, "(1, 2)", raw_le<int64_t>({-7, int64_t{1} << 40}))));
    CHECK(r.header().dtype_name() == "int64");
    CHECK(read_all_rows(r) == std::vector<float>{-7.0f, 1099511627776.0f});
  }
  {
    NpyReader r(f.put(npy_bytes("<u8", false, "(1, 1)", raw_le<uint64_t>({uint64_t{1} << 63}))));
    CHECK(read_all_rows(r) == std::vector<float>{9223372036854775808.0f});
  }
  {
    NpyReader r(f.put(npy_bytes("|b1", false, "(2, 2)", std::string("\x01\x00\x00\x01", 4))));
    CHECK(r.header().kind == NpyKind::Bool);
    CHECK(r.header().dtype_name() == "bool");
    CHECK(read_all_rows(r) == std::vector<float>{1, 0, 0, 1});
  }
}

TEST_CASE("big-endian dtypes") {
  Fixture f;
  {
    // 1.0f and -2.0f big-endian, written by hand, then more via raw_be.
    const std::string data = std::string("\x3f\x80\x00\x00\xc0\x00\x00\x00", 8) + raw_be<float>({0.1f, 1e-38f});
    NpyReader r(f.put(npy_bytes(">f4", false, "(2, 2)", data)));
    CHECK(r.header().big_endian);
    CHECK(r.header().dtype_name() == "float32");
    CHECK(read_all_rows(r) == std::vector<float>{1.0f, -2.0f, 0.1f, 1e-38f});
  }
  {
    NpyReader r(f.put(npy_bytes(">f8", false, "(1, 2)", raw_be<double>({0.1, -4.5}))));
    CHECK(read_all_rows(r) == std::vector<float>{0.1f, -4.5f});
  }
  {
    NpyReader r(f.put(npy_bytes(">i4", false, "(1, 3)", std::string("\xff\xff\xff\xfe\x00\x00\x01\x00\x7f\xff\xff\xff", 12))));
    CHECK(read_all_rows(r) == std::vector<float>{-2.0f, 256.0f, 2147483647.0f});
  }
  {
    NpyReader r(f.put(npy_bytes(">u2", false, "(1, 2)", std::string("\x01\x02\xff\x00", 4))));
    CHECK(read_all_rows(r) == std::vector<float>{258.0f, 65280.0f});
  }
  {
    NpyReader r(f.put(npy_bytes(">i8", false, "(3,)", raw_be<int64_t>({3, 1, (int64_t{1} << 50) + 1}))));
    CHECK(r.read_all_as_int64() == std::vector<int64_t>{3, 1, (int64_t{1} << 50) + 1});
  }
}

TEST_CASE("Fortran order, 2-D: column-major data comes back as rows") {
  Fixture f;
  // Logical [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6.
  NpyReader r(f.put(npy_bytes("<f4", true, "(2, 3)", raw_le<float>({1, 4, 2, 5, 3, 6}))));
  CHECK(r.header().fortran_order);
  std::vector<float> row(3);
  r.read_rows_as_float(1, row.data());
  CHECK(row == std::vector<float>{1, 2, 3});
  r.read_rows_as_float(1, row.data());
  CHECK(row == std::vector<float>{4, 5, 6});

  // Other dtypes go through the same path.
  NpyReader d(f.put(npy_bytes(">f8", true, "(3, 2)", raw_be<double>({1, 2, 3, 10, 20, 30}))));
  CHECK(read_all_rows(d) == std::vector<float>{1, 10, 2, 20, 3, 30});

  // A 1-D array is the same in either order.
  NpyReader one(f.put(npy_bytes("<f4", true, "(3,)", raw_le<float>({7, 8, 9}))));
  CHECK(read_all_rows(one) == std::vector<float>{7, 8, 9});
}

TEST_CASE("Fortran order, 3-D: trailing axes are flattened in C order") {
  Fixture f;
  // Logical x[n][h][w] = 100 n + 10 h + w with shape (2, 2, 3). Fortran order stores element
  // (n, h, w) at offset n + 2 h + 4 w.
  const int N = 2, H = 2, W = 3;
  std::vector<float> fortran(N * H * W);
  for (int n = 0; n < N; ++n)
    for (int h = 0; h < H; ++h)
      for (int w = 0; w < W; ++w) fortran[n + N * h + N * H * w] = static_cast<float>(100 * n + 10 * h + w);
  NpyReader r(f.put(npy_bytes("<f4", true, "(2, 2, 3)", raw_le(fortran))));
  CHECK(r.cols() == 6);
  // The same rows a C-ordered file of the same logical array gives: [n, h, w] with w fastest.
  CHECK(read_all_rows(r) == std::vector<float>{0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112});

  // Rank 4, shape (2, 1, 2, 2): offset n + 2 c + 2 h + 4 w (c has size 1).
  std::vector<float> f4(8);
  for (int n = 0; n < 2; ++n)
    for (int h = 0; h < 2; ++h)
      for (int w = 0; w < 2; ++w) f4[n + 2 * h + 4 * w] = static_cast<float>(100 * n + 10 * h + w);
  NpyReader r4(f.put(npy_bytes("<f4", true, "(2, 1, 2, 2)", raw_le(f4))));
  CHECK(r4.cols() == 4);
  CHECK(read_all_rows(r4) == std::vector<float>{0, 1, 10, 11, 100, 101, 110, 111});
}

TEST_CASE("format versions 2.0 and 3.0 use a four-byte header length") {
  Fixture f;
  for (int major : {2, 3}) {
    const std::string bytes = npy_bytes("<f4", false, "(1, 2)", raw_le<float>({1.5f, -1.5f}), major);
    CHECK((12 + (static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8)) % 64 == 0);
    NpyReader r(f.put(bytes));
    CHECK(read_all_rows(r) == std::vector<float>{1.5f, -1.5f});
  }
}

TEST_CASE("shapes: 1-D, 0-D, Python 2 longs, higher rank") {
  Fixture f;
  NpyReader one(f.put(npy_bytes("<f4", false, "(4,)", raw_le<float>({1, 2, 3, 4}))));
  CHECK(one.header().shape == std::vector<int64_t>{4});
  CHECK(one.rows() == 4);
  CHECK(one.cols() == 1);

  NpyReader scalar(f.put(npy_bytes("<f4", false, "()", raw_le<float>({42}))));
  CHECK(scalar.header().shape.empty());
  CHECK(scalar.rows() == 1);
  CHECK(scalar.cols() == 1);
  CHECK(read_all_rows(scalar) == std::vector<float>{42});

  NpyReader longs(f.put(npy_bytes("<f4", false, "(2L, 1L)", raw_le<float>({5, 6}))));
  CHECK(longs.header().shape == std::vector<int64_t>{2, 1});

  NpyReader four(f.put(npy_bytes("|u1", false, "(2, 3, 4, 5)", std::string(120, '\x07'))));
  CHECK(four.rows() == 2);
  CHECK(four.cols() == 60);

  NpyReader empty(f.put(npy_bytes("<f4", false, "(0, 3)", "")));
  CHECK(empty.rows() == 0);
  CHECK(empty.cols() == 3);

  // Keys in another order, no trailing comma, no padding.
  NpyReader reordered(f.put(npy_raw_header("{'shape': (1, 2), 'fortran_order': False, 'descr': '<f4'}\n",
                                           raw_le<float>({3, 4}))));
  CHECK(read_all_rows(reordered) == std::vector<float>{3, 4});
}

TEST_CASE("read_all_as_int64 for labels") {
  Fixture f;
  {
    const std::vector<int64_t> v = {0, 9, (int64_t{1} << 53) + 1, -4};
    NpyReader r(f.put(npy_bytes("<i8", false, "(4,)", raw_le(v))));
    CHECK(r.read_all_as_int64() == v);  // exact beyond 2^53
  }
  {
    NpyReader r(f.put(npy_bytes("|u1", false, "(3,)", raw_le<uint8_t>({0, 255, 7}))));
    CHECK(r.read_all_as_int64() == std::vector<int64_t>{0, 255, 7});
  }
  {
    NpyReader r(f.put(npy_bytes("<i4", false, "(3, 1)", raw_le<int32_t>({2, -1, 5}))));  // column vector
    CHECK(r.read_all_as_int64() == std::vector<int64_t>{2, -1, 5});
  }
  {
    NpyReader r(f.put(npy_bytes("<f4", false, "(3,)", raw_le<float>({1.0f, 0.0f, 3.0f}))));
    CHECK(r.read_all_as_int64() == std::vector<int64_t>{1, 0, 3});
  }
  {
    NpyReader r(f.put(npy_bytes("|b1", false, "(3,)", std::string("\x01\x00\x01", 3))));
    CHECK(r.read_all_as_int64() == std::vector<int64_t>{1, 0, 1});
  }
  {
    const std::string path = f.put(npy_bytes("<f8", false, "(3,)", raw_le<double>({1.0, 2.5, 3.0})));
    NpyReader r(path);
    try {
      r.read_all_as_int64();
      FAIL("fractional label accepted");
    } catch (const subset::Error& e) {
      CHECK(e.message() == "label at row 1 is not an integer (2.5)");
      CHECK(e.where() == path);
    }
  }
  {
    NpyReader r(f.put(npy_bytes("<f4", false, "(2,)", raw_le<float>({1.0f, std::numeric_limits<float>::quiet_NaN()}))));
    CHECK_THROWS_WITH_AS(r.read_all_as_int64(), doctest::Contains("label at row 1 is not an integer"), subset::Error);
  }
  {
    NpyReader r(f.put(npy_bytes("<i8", false, "(2, 2)", raw_le<int64_t>({1, 2, 3, 4}))));
    CHECK_THROWS_WITH_AS(r.read_all_as_int64(), doctest::Contains("labels must be a 1-D array, found 2-D"),
                         subset::Error);
  }
}

TEST_CASE("malformed and unsupported .npy files are rejected, naming the file and the problem") {
  Fixture f;
  auto expect = [&](const std::string& bytes, const std::string& message) {
    const std::string path = f.put(bytes);
    CAPTURE(message);
    try {
      NpyReader r(path);
      FAIL("accepted");
    } catch (const subset::Error& e) {
      INFO("actual message: " << e.message());
      CHECK(e.message().find(message) != std::string::npos);
      CHECK(e.where() == path);
    }
  };
  const std::string two_floats = raw_le<float>({1, 2});
  std::string bad_magic = npy_bytes("<f4", false, "(2,)", two_floats);
  bad_magic[1] = 'n';
  expect(bad_magic, "not a .npy file (bad magic string)");
  expect("PK\x03\x04 this is a zip", "not a .npy file (bad magic string)");
  expect(npy_bytes("<f4", false, "(2,)", two_floats, 4), "npy format version 4 is not supported");
  expect(npy_bytes("<f4", false, "(2,)", two_floats, 0), "npy format version 0 is not supported");
  expect("\x93NUM", "not a .npy file (bad magic string)");  // shorter than the magic string
  expect("", "not a .npy file (bad magic string)");
  expect(std::string("\x93NUMPY\x01", 7), "file is truncated while reading the npy header");
  expect(npy_bytes("<f4", false, "(2,)", two_floats).substr(0, 30), "file is truncated while reading the npy header");
  expect(npy_bytes("<f2", false, "(2,)", "abcd"), "unsupported float size in npy dtype '<f2'");
  expect(npy_bytes("<c8", false, "(1,)", std::string(8, '\0')), "npy dtype '<c8' is not numeric");
  expect(npy_bytes("<U5", false, "(1,)", std::string(20, '\0')), "npy dtype '<U5' is not numeric");
  expect(npy_bytes("|S3", false, "(1,)", "abc"), "npy dtype '|S3' is not numeric");
  expect(npy_bytes("|O", false, "(1,)", std::string(8, '\0')), "unsupported npy dtype '|O'");
  expect(npy_bytes("<i3", false, "(1,)", "abc"), "unsupported npy dtype '<i3'");
  expect(npy_bytes("<f4x", false, "(1,)", "abcd"), "unsupported npy dtype '<f4x'");  // no trailing junk
  expect(npy_bytes("<M8[ns]", false, "(1,)", std::string(8, '\0')), "npy dtype '<M8[ns]' is not numeric");
  expect(npy_raw_header("{'descr': [('a', '<f4'), ('b', '<i4')], 'fortran_order': False, 'shape': (1,), }\n",
                        std::string(8, '\0')),
         "structured npy arrays are not supported");
  expect(npy_raw_header("{'fortran_order': False, 'shape': (2,), }\n", two_floats), "npy header has no 'descr' entry");
  expect(npy_raw_header("{'descr': '<f4', 'shape': (2,), }\n", two_floats), "npy header has no 'fortran_order' entry");
  expect(npy_raw_header("{'descr': '<f4', 'fortran_order': False, }\n", two_floats), "npy header has no 'shape' entry");
  expect(npy_raw_header("{'descr': '<f4', 'fortran_order': maybe, 'shape': (2,), }\n", two_floats),
         "cannot parse fortran_order");
  expect(npy_raw_header("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }\n", two_floats),
         "cannot parse the npy shape");
  expect(npy_raw_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }\n", two_floats),
         "bad npy shape entry 'x'");
  expect(npy_raw_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }\n", two_floats),
         "bad npy shape entry '-2'");
  // The header promises 3 x 2 float32 = 24 data bytes; only 20 follow, or 28.
  expect(npy_bytes("<f4", false, "(3, 2)", std::string(20, '\0')),
         "npy shape (3, 2) of float32 needs 24 bytes of data but the file holds 20");
  expect(npy_bytes("<f4", false, "(3, 2)", std::string(28, '\0')),
         "npy shape (3, 2) of float32 needs 24 bytes of data but the file holds 28");

  const std::string missing = f.dir.file("missing.npy");
  CHECK_THROWS_WITH_AS(NpyReader{missing}, doctest::Contains("no such file"), subset::Error);
}

TEST_CASE("npy: size arithmetic from the header is overflow-checked; zero dimensions divide nothing") {
  Fixture f;
  auto expect = [&](const std::string& bytes, const std::string& message) {
    CAPTURE(message);
    CHECK_THROWS_WITH_AS(NpyReader{f.put(bytes)}, doctest::Contains(message.c_str()), subset::Error);
  };
  const std::string kb(1024, '\0');
  // 2^62 x 2^62 elements (issue 12, case 3): the byte count wrapped and a block size became zero.
  expect(npy_bytes("<f4", false, "(4611686018427387904, 4611686018427387904)", kb), "is too large to address");
  // Each product fits alone, not the bytes: 2^61 float64 values.
  expect(npy_bytes("<f8", false, "(2305843009213693952,)", kb), "is too large to address");
  // A zero first dimension must not hide overflowing row sizes.
  expect(npy_bytes("<f4", false, "(0, 4611686018427387904)", ""), "is too large to address");
  expect(npy_bytes("<f4", false, "(0, 1048576, 1048576, 1048576, 1048576)", ""), "is too large to address");
  // A shape that fits but does not match the data.
  expect(npy_bytes("<f4", false, "(1000000, 1000)", kb),
         "npy shape (1000000, 1000) of float32 needs 4000000000 bytes of data but the file holds 1024");

  NpyReader zero_rows{f.put(npy_bytes("<f4", false, "(0, 5)", ""))};
  CHECK(zero_rows.rows() == 0);
  CHECK(zero_rows.cols() == 5);
  NpyReader zero_cols{f.put(npy_bytes("<f4", false, "(5, 0)", ""))};
  CHECK(zero_cols.rows() == 5);
  CHECK(zero_cols.cols() == 0);
}

TEST_CASE("npy labels: uint64 values above INT64_MAX are refused exactly, not rounded") {
  Fixture f;
  NpyReader big{f.put(npy_bytes("<u8", false, "(3,)", raw_le<uint64_t>({0, std::numeric_limits<uint64_t>::max(), 1})))};
  CHECK_THROWS_WITH_AS(big.read_all_as_int64(), doctest::Contains("label 18446744073709551615 at row 1"), subset::Error);
  NpyReader ok{f.put(npy_bytes("<u8", false, "(3,)", raw_le<uint64_t>({0, uint64_t{1} << 62, 1})))};
  CHECK(ok.read_all_as_int64() == std::vector<int64_t>{0, int64_t{1} << 62, 1});
}
