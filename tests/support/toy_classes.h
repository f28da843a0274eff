#pragma once
// Three well-separated classes in 5 dimensions for the trainer tests: row i has label i % 3 and
// features margin at dimension label plus Gaussian noise, drawn from a fixed seed.
#include <cstdint>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/nn/trainer.h"

namespace subset::test {

struct ToyClasses {
  std::vector<float> x;
  std::vector<int64_t> y;
  std::vector<float> w;  // empty: no weights
  int64_t n = 0, dim = 5;
  nn::LabelledView view() const { return {x.data(), y.data(), w.empty() ? nullptr : w.data(), n, dim}; }
};

inline ToyClasses make_toy_classes(int64_t n, uint64_t seed, double margin = 3.0, double noise = 0.3) {
  ToyClasses t;
  t.n = n;
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % 3;
    t.y.push_back(c);
    for (int64_t d = 0; d < t.dim; ++d) t.x.push_back(static_cast<float>((d == c ? margin : 0.0) + noise * rng.normal()));
  }
  return t;
}

// Rows `rows` of `t`, with their weights when it has any.
inline ToyClasses take_rows(const ToyClasses& t, const std::vector<int64_t>& rows) {
  ToyClasses out;
  out.n = static_cast<int64_t>(rows.size());
  for (int64_t r : rows) {
    out.y.push_back(t.y[static_cast<size_t>(r)]);
    out.x.insert(out.x.end(), t.x.begin() + r * t.dim, t.x.begin() + (r + 1) * t.dim);
    if (!t.w.empty()) out.w.push_back(t.w[static_cast<size_t>(r)]);
  }
  return out;
}

}  // namespace subset::test
