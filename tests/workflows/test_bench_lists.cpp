// Tests for the list checks of `subset bench` (workflows/bench.h): --methods and --fractions are
// split and checked item by item before any work, each error naming the option and the item.
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/workflows/bench.h"
#include "support/error_of.h"

using subset::workflows::check_bench_lists;
using subset::workflows::parse_bench_fractions;
using subset::workflows::split_bench_list;

using subset::test::error_of;

TEST_CASE("bench lists are split at commas, and an empty item is an error naming it") {
  CHECK(split_bench_list("random, kcenter ,el2n:order=coverage", "methods") ==
        std::vector<std::string>{"random", "kcenter", "el2n:order=coverage"});
  for (const std::string text : {",,", "random,", ",random", "random,,kcenter", " , "}) {
    const subset::Error e = error_of([&] { split_bench_list(text, "methods"); });
    CHECK(e.where() == "methods");
    CHECK(e.message().find("empty item") != std::string::npos);
  }
  CHECK(error_of([] { split_bench_list("", "fractions"); }).message().find("empty list") != std::string::npos);
  CHECK(error_of([] { split_bench_list("a,,b", "methods"); }).message().find("empty item 2 in 'a,,b'") !=
        std::string::npos);
}

TEST_CASE("bench fractions are numbers above 0 and at most 1, each given once") {
  CHECK(parse_bench_fractions("0.1,0.5, 1") == std::vector<double>{0.1, 0.5, 1.0});
  for (const std::string text : {"0.1x", "abc", "nan", "inf", "1e999", "0.1;0.2"}) {
    const subset::Error e = error_of([&] { parse_bench_fractions(text); });
    CHECK(e.where() == "fractions");
    CHECK(e.message().find("is not a number") != std::string::npos);
  }
  CHECK_NOTHROW(check_bench_lists({"random", "kcenter"}, {0.1, 1.0}));
  CHECK(error_of([] { check_bench_lists({"random"}, {0.1, 0.0}); }).message() == "fraction 0 is not in (0, 1]");
  CHECK(error_of([] { check_bench_lists({"random"}, {1.5}); }).message() == "fraction 1.5 is not in (0, 1]");
  CHECK(error_of([] { check_bench_lists({"random"}, {0.1, 0.1}); }).message() == "fraction 0.1 given twice");
  // Alike to the 6 digits of the selections' file names: they would share files.
  CHECK(error_of([] { check_bench_lists({"random"}, {0.1, 0.1000001}); }).message() == "fraction 0.1 given twice");
  CHECK(error_of([] { check_bench_lists({"random", "random"}, {0.1}); }).message() == "'random' given twice");
  CHECK(error_of([] { check_bench_lists({}, {0.1}); }).where() == "methods");
  CHECK(error_of([] { check_bench_lists({"random"}, {}); }).where() == "fractions");
  const subset::Error unknown = error_of([] { check_bench_lists({"random", "nosuch"}, {0.1}); });
  CHECK(unknown.where() == "methods");
  CHECK(unknown.message().find("nosuch") != std::string::npos);
}
