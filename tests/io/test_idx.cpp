// Tests for libsubset/io/idx.h: IDX files made by hand, plain and gzip'd.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/idx.h"
#include "support/files.h"
#include "support/idx_builder.h"
#include "support/temp_dir.h"

using subset::io::read_idx_u8;
using namespace subset::test;

namespace {
std::vector<uint8_t> pattern(size_t n) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>((i * 37 + 11) % 256);
  return v;
}
}  // namespace

TEST_CASE("read_idx_u8 reads plain and gzip'd files identically") {
  TempDir dir;
  const auto data = pattern(3 * 28 * 28);
  const std::string bytes = idx_bytes({3, 28, 28}, data);
  // The header as the MNIST page documents it: magic 0x00000803, then 3, 28, 28 big-endian.
  REQUIRE(bytes.substr(0, 16) == std::string("\x00\x00\x08\x03\x00\x00\x00\x03\x00\x00\x00\x1c\x00\x00\x00\x1c", 16));
  write_bytes(dir.file("plain-idx3-ubyte"), bytes);
  write_gz(dir.file("images-idx3-ubyte.gz"), bytes);
  for (const std::string name : {"plain-idx3-ubyte", "images-idx3-ubyte.gz"}) {
    CAPTURE(name);
    const auto a = read_idx_u8(dir.file(name));
    CHECK(a.shape == std::vector<int64_t>{3, 28, 28});
    CHECK(a.data == data);
  }
  // A gzip'd file is recognised by content, not by its name.
  write_gz(dir.file("no-suffix"), bytes);
  CHECK(read_idx_u8(dir.file("no-suffix")).data == data);
}

TEST_CASE("read_idx_u8: rank 1 labels and large dimension values") {
  TempDir dir;
  const std::vector<uint8_t> labels = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 0, 255};
  write_gz(dir.file("labels.gz"), idx_bytes({12}, labels));
  const auto a = read_idx_u8(dir.file("labels.gz"));
  CHECK(a.shape == std::vector<int64_t>{12});
  CHECK(a.data == labels);

  // A dimension using all four bytes: 0x00010203 = 66051.
  const auto big = pattern(66051);
  write_bytes(dir.file("big"), idx_bytes({0x00010203u}, big));
  const auto b = read_idx_u8(dir.file("big"));
  CHECK(b.shape == std::vector<int64_t>{66051});
  CHECK(b.data == big);

  // Rank 4.
  const auto four = pattern(2 * 3 * 4 * 5);
  write_bytes(dir.file("four"), idx_bytes({2, 3, 4, 5}, four));
  CHECK(read_idx_u8(dir.file("four")).shape == std::vector<int64_t>{2, 3, 4, 5});
}

TEST_CASE("read_idx_u8 rejects malformed files, naming the file and the problem") {
  TempDir dir;
  auto expect = [&](const std::string& name, const std::string& bytes, bool gz, const std::string& message) {
    const std::string path = dir.file(name);
    if (gz) write_gz(path, bytes);
    else write_bytes(path, bytes);
    CAPTURE(name);
    try {
      read_idx_u8(path);
      FAIL("accepted");
    } catch (const subset::Error& e) {
      CHECK(e.message().find(message) != std::string::npos);
      CHECK(e.where() == path);
    }
  };
  const auto six = pattern(6);
  std::string bad_magic = idx_bytes({6}, six);
  bad_magic[0] = 0x1f;
  expect("bad-magic", bad_magic, false, "not an IDX file (bad magic number)");
  expect("float", idx_bytes({6}, six, 0x0d), true, "IDX element type 0xd is not unsigned byte (0x08)");
  expect("int32", idx_bytes({6}, six, 0x0c), false, "is not unsigned byte");
  expect("rank0", idx_bytes({}, six), false, "IDX rank 0 is not supported");
  expect("rank5", idx_bytes({1, 1, 1, 1, 6}, six), false, "IDX rank 5 is not supported");
  expect("zero-dim", idx_bytes({3, 0}, {}), false, "IDX dimension 1 is zero");
  expect("short-header", std::string("\x00\x00", 2), false, "truncated while reading the IDX header");
  expect("short-dims", std::string("\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00", 10), true,
         "truncated while reading the IDX dimensions");
  const auto full = idx_bytes({2, 28, 28}, pattern(2 * 28 * 28));
  expect("short-data", full.substr(0, full.size() - 1), false, "truncated while reading the IDX data");
  expect("short-data.gz", full.substr(0, full.size() - 100), true, "truncated while reading the IDX data");
  expect("empty", "", false, "truncated while reading the IDX header");

  // A gzip stream cut short: the decompressor reports it, named as the data being read.
  write_gz(dir.file("whole.gz"), full);
  const std::string gz = read_bytes(dir.file("whole.gz"));
  const std::string cut = dir.file("cut.gz");
  write_bytes(cut, gz.substr(0, gz.size() / 2));
  try {
    read_idx_u8(cut);
    FAIL("a cut gzip stream was accepted");
  } catch (const subset::Error& e) {
    CHECK(e.message().find("the IDX data") != std::string::npos);
    CHECK(e.where() == cut);
  }

  const std::string missing = dir.file("missing.gz");
  CHECK_THROWS_WITH_AS(read_idx_u8(missing), doctest::Contains("no such file"), subset::Error);
}

TEST_CASE("read_idx_u8: sizes from the header are overflow-checked and memory follows the data, not the claim") {
  TempDir dir;
  // 2^17 * 2^16 * 2^31 = 2^64 wraps to 0 elements in 64 bits.
  write_bytes(dir.file("wrap"), idx_bytes({1u << 17, 1u << 16, 1u << 31}, pattern(16)));
  CHECK_THROWS_WITH_AS(read_idx_u8(dir.file("wrap")), doctest::Contains("IDX array is implausibly large"),
                       subset::Error);
  // 2^39 bytes claimed, 16 present: refused as truncated without allocating the claim.
  write_gz(dir.file("claim.gz"), idx_bytes({1u << 20, 1u << 19}, pattern(16)));
  CHECK_THROWS_WITH_AS(read_idx_u8(dir.file("claim.gz")), doctest::Contains("truncated while reading the IDX data"),
                       subset::Error);
}
