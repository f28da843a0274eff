// Tests for the selection registry (libsubset/select/registry.h): the explicit method table,
// unknown names and parameters, and validate_request. The contract test covers every method's
// behaviour; this file covers the table itself.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/select/registry.h"

using namespace subset::select;
using subset::Error;
using subset::ParamMap;

TEST_CASE("registry: lists random, balanced and stratified once each") {
  std::set<std::string> names;
  for (const auto& m : methods()) {
    CHECK(names.insert(m.name).second);
    CHECK_FALSE(m.summary.empty());
    CHECK(m.params.owner() == m.name);
    CHECK(method(m.name).name == m.name);
    CHECK(m.create(m.params.resolve({})) != nullptr);  // defaults
  }
  for (const char* n : {"random", "balanced", "stratified"}) CHECK(names.count(n) == 1);
}

TEST_CASE("registry: an unknown method is an error listing the known ones") {
  try {
    method("frobnicate");
    FAIL("no error");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what.find("frobnicate") != std::string::npos);
    for (const auto& m : methods()) CHECK(what.find(m.name) != std::string::npos);
  }
  CHECK_THROWS_AS(make_selector("", ParamMap{}), Error);
}

TEST_CASE("registry: unknown parameters are rejected") {
  ParamMap p;
  p.set("bogus", int64_t{3});
  CHECK_THROWS_AS(make_selector("random", p), Error);
  CHECK_THROWS_AS(method("random").params.resolve({{"bogus", "3"}}), Error);
}
