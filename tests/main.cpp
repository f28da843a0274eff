#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
// doctest's crash handler would replace libsubset's SIGINT/SIGTERM handler at the start of every test
// case and restore the default at its end, so the interrupt tests could not observe libsubset's
// handling. A crash still fails the run; it is just reported by the shell/ctest instead.
#define DOCTEST_CONFIG_NO_POSIX_SIGNALS
#include <doctest/doctest.h>
