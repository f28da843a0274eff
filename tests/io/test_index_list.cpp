// Tests for libsubset/io/index_list.h: plain index lists, FILE.txt (one decimal index per line)
// and FILE.npy (format 1.0, '<i8', 1-D), checked byte by byte; the .npy header is parsed here.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/io/index_list.h"
#include "support/files.h"
#include "support/temp_dir.h"

using subset::Error;
using subset::io::check_index_list_path;
using subset::io::write_index_list;
using namespace subset::test;

namespace {

struct Npy {
  int major = 0, minor = 0;
  std::string header;  // the dict text, padding and newline included
  size_t data_offset = 0;
  std::vector<int64_t> values;
};

Npy parse_npy(const std::string& bytes) {
  Npy n;
  REQUIRE(bytes.size() >= 10);
  REQUIRE(bytes.compare(0, 6, std::string("\x93NUMPY", 6)) == 0);
  n.major = static_cast<unsigned char>(bytes[6]);
  n.minor = static_cast<unsigned char>(bytes[7]);
  const size_t len = static_cast<unsigned char>(bytes[8]) | (static_cast<size_t>(static_cast<unsigned char>(bytes[9])) << 8);
  REQUIRE(bytes.size() >= 10 + len);
  n.header = bytes.substr(10, len);
  n.data_offset = 10 + len;
  const size_t data = bytes.size() - n.data_offset;
  REQUIRE(data % 8 == 0);
  for (size_t i = 0; i < data / 8; ++i) {
    uint64_t v = 0;
    for (int b = 7; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(bytes[n.data_offset + i * 8 + static_cast<size_t>(b)]);
    n.values.push_back(static_cast<int64_t>(v));
  }
  return n;
}

// The dict without spaces, to compare independently of NumPy's own spacing.
std::string squeeze(std::string s) {
  std::string out;
  for (char c : s)
    if (c != ' ' && c != '\n') out += c;
  return out;
}

}  // namespace

TEST_CASE("index list: .txt holds one decimal index per line") {
  TempDir dir;
  write_index_list(dir.file("a.txt"), false, {3, 1, 2, 1099511627776});
  CHECK(read_bytes(dir.file("a.txt")) == "3\n1\n2\n1099511627776\n");
  write_index_list(dir.file("empty.txt"), false, {});
  CHECK(read_bytes(dir.file("empty.txt")).empty());
}

TEST_CASE("index list: .npy is a format 1.0 little-endian int64 vector") {
  TempDir dir;
  const std::vector<int64_t> values{7, 0, 3, 1099511627776, 59999};
  write_index_list(dir.file("a.npy"), false, values);
  const std::string bytes = read_bytes(dir.file("a.npy"));
  const Npy n = parse_npy(bytes);
  CHECK(n.major == 1);
  CHECK(n.minor == 0);
  CHECK(n.data_offset % 64 == 0);  // header padded so the data is aligned, as NumPy does
  CHECK(n.header.back() == '\n');
  CHECK(squeeze(n.header) == "{'descr':'<i8','fortran_order':False,'shape':(5,),}");
  CHECK(n.values == values);
  CHECK(bytes.size() == n.data_offset + 8 * values.size());
}

TEST_CASE("index list: .npy of one and of no indices") {
  TempDir dir;
  write_index_list(dir.file("one.npy"), false, {42});
  Npy n = parse_npy(read_bytes(dir.file("one.npy")));
  CHECK(squeeze(n.header) == "{'descr':'<i8','fortran_order':False,'shape':(1,),}");
  CHECK(n.values == std::vector<int64_t>{42});
  write_index_list(dir.file("none.npy"), false, {});
  n = parse_npy(read_bytes(dir.file("none.npy")));
  CHECK(squeeze(n.header) == "{'descr':'<i8','fortran_order':False,'shape':(0,),}");
  CHECK(n.values.empty());
  CHECK(n.data_offset % 64 == 0);
}

TEST_CASE("index list: .npy header stays aligned for every length of the shape text") {
  TempDir dir;
  for (size_t count : {size_t{9}, size_t{10}, size_t{99}, size_t{100}, size_t{1000}, size_t{123456}}) {
    std::vector<int64_t> v(count);
    for (size_t i = 0; i < count; ++i) v[i] = static_cast<int64_t>(count - i);
    write_index_list(dir.file("v.npy"), true, v);
    const Npy n = parse_npy(read_bytes(dir.file("v.npy")));
    CHECK(n.data_offset % 64 == 0);
    CHECK(squeeze(n.header) == "{'descr':'<i8','fortran_order':False,'shape':(" + std::to_string(count) + ",),}");
    CHECK(n.values == v);
  }
}

TEST_CASE("index list: another extension is refused before anything is written") {
  TempDir dir;
  for (const char* name : {"a.csv", "a.npz", "a", "atxt", "a.txt.bak", "a.h5"}) {
    INFO(name);
    CHECK_THROWS_AS(check_index_list_path(dir.file(name), false), Error);
    CHECK_THROWS_AS(write_index_list(dir.file(name), false, {1, 2}), Error);
  }
  try {
    write_index_list(dir.file("a.csv"), false, {1});
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find(".txt or .npy") != std::string::npos);
  }
  CHECK(list_dir(dir.path()).empty());
}

TEST_CASE("index list: an existing file is refused without force and untouched; force replaces it") {
  TempDir dir;
  write_bytes(dir.file("a.txt"), "old\n");
  CHECK_THROWS_AS(check_index_list_path(dir.file("a.txt"), false), Error);
  CHECK_THROWS_AS(write_index_list(dir.file("a.txt"), false, {5}), Error);
  CHECK(read_bytes(dir.file("a.txt")) == "old\n");
  CHECK_NOTHROW(check_index_list_path(dir.file("a.txt"), true));
  write_index_list(dir.file("a.txt"), true, {5});
  CHECK(read_bytes(dir.file("a.txt")) == "5\n");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"a.txt"});
  CHECK_THROWS_AS(write_index_list(dir.file("missing/a.npy"), false, {5}), Error);
}
