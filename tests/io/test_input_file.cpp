// Tests for libsubset/io/input_file.h.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "libsubset/core/error.h"
#include "libsubset/io/input_file.h"
#include "support/files.h"
#include "support/temp_dir.h"

using subset::io::InputFile;
using namespace subset::test;

TEST_CASE("InputFile reads a regular file exactly") {
  TempDir dir;
  const std::string path = dir.file("data.bin");
  std::string bytes;
  for (int i = 0; i < 200000; ++i) bytes.push_back(static_cast<char>(i * 31 % 251));
  write_bytes(path, bytes);

  InputFile in(path);
  CHECK(in.path() == path);
  CHECK(in.size() == 200000);
  CHECK(in.position() == 0);
  std::string head(10, '\0');
  in.read_exact(head.data(), 10, "the head");
  CHECK(head == bytes.substr(0, 10));
  CHECK(in.position() == 10);

  std::string rest;
  char buf[4096];
  while (const size_t got = in.read_some(buf, sizeof buf)) rest.append(buf, got);
  CHECK(rest == bytes.substr(10));
  CHECK(in.position() == 200000);
  CHECK(in.read_some(buf, sizeof buf) == 0);  // end of file, repeatedly
}

TEST_CASE("read_exact past the end names what was being read") {
  TempDir dir;
  const std::string path = dir.file("short.bin");
  write_bytes(path, "abc");
  InputFile in(path);
  char buf[8];
  try {
    in.read_exact(buf, 8, "the header");
    FAIL("short read accepted");
  } catch (const subset::Error& e) {
    CHECK(e.message() == "file is truncated while reading the header");
    CHECK(e.where() == path);
  }
  CHECK(in.position() == 3);

  const std::string empty = dir.file("empty.bin");
  write_bytes(empty, "");
  InputFile e(empty);
  CHECK(e.size() == 0);
  CHECK(e.read_some(buf, 8) == 0);
  CHECK_THROWS_WITH_AS(e.read_exact(buf, 1, "x"), doctest::Contains("truncated while reading x"), subset::Error);
}

TEST_CASE("devices report size -1") {
  InputFile in("/dev/null");
  CHECK(in.size() == -1);
  char c;
  CHECK(in.read_some(&c, 1) == 0);
}

TEST_CASE("missing files, directories and unreadable files are rejected with the path") {
  TempDir dir;
  const std::string missing = dir.file("nope.bin");
  for (int via_class = 0; via_class < 2; ++via_class) {
    try {
      if (via_class) InputFile in(missing);
      else subset::io::check_input_path(missing);
      FAIL("missing file accepted");
    } catch (const subset::Error& e) {
      CHECK(e.message() == "no such file");
      CHECK(e.where() == missing);
    }
  }
  const std::string d = dir.path().string();
  CHECK_THROWS_WITH_AS(InputFile{d}, doctest::Contains("input is a directory, not a file"), subset::Error);
  CHECK_THROWS_WITH_AS(subset::io::check_input_path(d), doctest::Contains("input is a directory"), subset::Error);
  try {
    subset::io::check_input_path(dir.file("nope/inner.bin"));
    FAIL("path through a missing directory accepted");
  } catch (const subset::Error& e) {
    CHECK(e.where() == dir.file("nope/inner.bin"));
  }

  if (geteuid() != 0) {  // root reads anything
    const std::string locked = dir.file("locked.bin");
    write_bytes(locked, "secret");
    REQUIRE(chmod(locked.c_str(), 0) == 0);
    CHECK_THROWS_WITH_AS(InputFile{locked}, doctest::Contains("cannot open input"), subset::Error);
  }
}
