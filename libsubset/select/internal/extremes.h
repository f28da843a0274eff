#pragma once
// The running argmax and argmin of the greedy selectors, with their tie rule: the lowest index wins
// among equal values, so that the picks do not depend on the order points are visited in (blocks,
// threads). Not installed.
#include <cstdint>
#include <limits>

namespace subset::select {

// The farthest unselected point seen (k-center): largest value, then lowest index; negative values
// mark selected points and are ignored.
struct Farthest {
  double value = -1.0;
  int64_t index = -1;
  void consider(double v, int64_t i) {
    if (v < 0.0) return;
    if (index < 0 || v > value || (v == value && i < index)) {
      value = v;
      index = i;
    }
  }
  void merge(const Farthest& o) {
    if (o.index >= 0) consider(o.value, o.index);
  }
};

// The nearest point seen (herding): smallest value, then lowest index. consider() says whether v
// became the best.
struct Nearest {
  double value = std::numeric_limits<double>::infinity();
  int64_t index = -1;
  bool consider(double v, int64_t i) {
    if (index < 0 || v < value || (v == value && i < index)) {
      value = v;
      index = i;
      return true;
    }
    return false;
  }
  void merge(const Nearest& o) {
    if (o.index >= 0) consider(o.value, o.index);
  }
};

}  // namespace subset::select
