#pragma once
// The subset::Error a callable throws, so a test can check its message and location; fails the
// test when nothing (or something else) is thrown.
#include <doctest/doctest.h>

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

}  // namespace subset::test
