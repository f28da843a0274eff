#pragma once
// Lets doctest print std::vector values in failed CHECKs ("{1, 2, 3}" instead of "{?}").
#include <doctest/doctest.h>

#include <ostream>
#include <sstream>
#include <utility>
#include <vector>

namespace subset::test::detail {
template <typename T>
void put(std::ostream& os, const T& v) {
  os << v;
}
template <typename A, typename B>
void put(std::ostream& os, const std::pair<A, B>& p) {
  os << "(" << p.first << ", " << p.second << ")";
}
}  // namespace subset::test::detail

namespace doctest {
template <typename T>
struct StringMaker<std::vector<T>> {
  static String convert(const std::vector<T>& v) {
    std::ostringstream os;
    os << "{";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) os << ", ";
      subset::test::detail::put(os, v[i]);
    }
    os << "}";
    return os.str().c_str();
  }
};
}  // namespace doctest
