#pragma once
// doctest for the tests that include libtorch: libtorch's glog defines CHECK macros that would
// replace doctest's, so such a test includes its libtorch headers first and then this header (in
// place of <doctest/doctest.h>), which drops glog's macros before doctest defines its own.
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE

#include <doctest/doctest.h>
