// Tests for libsubset/core/error.h: the one exception type, where it happened and the CLI line.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "libsubset/core/error.h"

using subset::Error;

TEST_CASE("Error keeps what and where apart and composes what()") {
  const Error e("store has 0 rows", "data.h5");
  CHECK(e.message() == "store has 0 rows");
  CHECK(e.where() == "data.h5");
  CHECK(std::string(e.what()) == "store has 0 rows (data.h5)");
  CHECK(e.exit_code() == 1);

  const Error bare("something failed");
  CHECK(bare.message() == "something failed");
  CHECK(bare.where().empty());
  CHECK(std::string(bare.what()) == "something failed");
}

TEST_CASE("format_error_line is one line starting with 'error: '") {
  CHECK(subset::format_error_line(Error("no such file", "x.h5")) == "error: no such file (x.h5)");
  CHECK(subset::format_error_line(Error("first\nsecond\r\nthird", "a\nb")) == "error: first second  third (a b)");
}

TEST_CASE("Interrupted is an Error with exit code 130") {
  const subset::Interrupted i;
  const Error& as_error = i;
  CHECK(as_error.exit_code() == 130);
  CHECK(as_error.message() == "interrupted");
  CHECK(as_error.where().empty());
  CHECK(subset::format_error_line(i) == "error: interrupted");
  bool caught = false;
  try {
    throw subset::Interrupted();
  } catch (const Error& e) {  // callers catching Error also see interrupts
    caught = true;
    CHECK(e.exit_code() == 130);
  }
  CHECK(caught);
}

TEST_CASE("SUBSET_CHECK and SUBSET_FAIL stream their message") {
  const int n = 0;
  CHECK_NOTHROW(SUBSET_CHECK(n == 0, "x.h5", "never thrown"));
  try {
    SUBSET_CHECK(n > 0, "x.h5", "store has " << n << " rows, need " << 2.5);
    FAIL("SUBSET_CHECK did not throw");
  } catch (const Error& e) {
    CHECK(e.message() == "store has 0 rows, need 2.5");
    CHECK(e.where() == "x.h5");
  }
  try {
    SUBSET_FAIL(std::string("opt"), "value " << 7 << " is bad");
    FAIL("SUBSET_FAIL did not throw");
  } catch (const Error& e) {
    CHECK(e.message() == "value 7 is bad");
    CHECK(e.where() == "opt");
  }
  // The condition is evaluated exactly once.
  int calls = 0;
  auto count = [&] { return ++calls > 0; };
  SUBSET_CHECK(count(), "", "unused");
  CHECK(calls == 1);
}

TEST_CASE("a library's failure is its first line, without libtorch's backtrace unless asked for") {
  // The shape of a c10::Error's what(): the message, then where it was raised and the frames.
  const std::runtime_error torch_like(
      "numel: integer multiplication overflow\n"
      "Exception raised from numel at /build/c10/core/TensorImpl.h:1234 (most recent call first):\n"
      "frame #0: c10::Error::Error(c10::SourceLocation, std::string) + 0x3e (0x7f in libc10.so)\n"
      "frame #1: at::empty(...) + 0x10 (0x7f in libtorch_cpu.so)\n");
  CHECK(subset::format_unexpected_error_line(torch_like, false) ==
        "error: internal error: numel: integer multiplication overflow");
  const std::string full = subset::format_unexpected_error_line(torch_like, true);
  CHECK(full.find('\n') == std::string::npos);
  CHECK(full.find("frame #1: at::empty") != std::string::npos);
  CHECK(subset::format_unexpected_error_line(std::runtime_error("plain"), false) == "error: internal error: plain");
}
