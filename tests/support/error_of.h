#pragma once
// The subset::Error a callable throws, so a test can check its message and location; fails the
// test when nothing (or something else) is thrown.
#include <doctest/doctest.h>

#include <functional>
#include <string>

#include "libsubset/core/error.h"

namespace subset::test {

template <typename F>
subset::Error error_of(F&& f) {
  try {
    f();
  } catch (const subset::Error& e) {
    return e;
  }
  FAIL("no subset::Error thrown");
  return subset::Error("unreachable");
}

// "message @ where" of the subset::Error fn throws, "" when it returns: for comparing what several
// ranks (or two code paths) report, failure or not.
inline std::string error_text_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const subset::Error& e) {
    return e.message() + " @ " + e.where();
  }
  return "";
}

}  // namespace subset::test
