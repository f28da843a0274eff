#pragma once
// Random point sets for the geometric selectors' tests (row-major float32, deterministic by seed):
// Gaussian, tight clusters with duplicates, small-integer grids full of exact ties, and 8-bit
// "pixels" scaled to [0, 1].
#include <algorithm>
#include <cstdint>
#include <vector>

#include "libsubset/core/rng.h"

namespace subset::test {

struct Data {
  int64_t n, dim;
  std::vector<float> x;
};

inline Data gaussian(int64_t n, int64_t dim, uint64_t seed, double scale = 1.0, double offset = 0.0) {
  subset::Rng rng(seed);
  Data d{n, dim, std::vector<float>(static_cast<size_t>(n * dim))};
  for (auto& v : d.x) v = static_cast<float>(offset + scale * rng.normal());
  return d;
}

// A mixture of tight clusters (what makes pruning effective), with a few exact duplicates.
inline Data clustered(int64_t n, int64_t dim, int64_t clusters, uint64_t seed) {
  subset::Rng rng(seed);
  std::vector<float> centres(static_cast<size_t>(clusters * dim));
  for (auto& v : centres) v = static_cast<float>(5.0 * rng.normal());
  Data d{n, dim, std::vector<float>(static_cast<size_t>(n * dim))};
  for (int64_t i = 0; i < n; ++i) {
    const auto c = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(clusters)));
    for (int64_t j = 0; j < dim; ++j)
      d.x[static_cast<size_t>(i * dim + j)] =
          centres[static_cast<size_t>(c * dim + j)] + static_cast<float>(0.3 * rng.normal());
  }
  for (int64_t i = 7; i < n; i += 37)  // duplicates of earlier rows
    std::copy_n(&d.x[static_cast<size_t>((i / 3) * dim)], dim, &d.x[static_cast<size_t>(i * dim)]);
  return d;
}

// Small integers: many exactly equal distances, and many duplicated points.
inline Data grid(int64_t n, int64_t dim, int levels, uint64_t seed) {
  subset::Rng rng(seed);
  Data d{n, dim, std::vector<float>(static_cast<size_t>(n * dim))};
  for (auto& v : d.x) v = static_cast<float>(rng.uniform_index(static_cast<uint64_t>(levels)));
  return d;
}

// 8-bit images scaled to [0, 1] (what the 8-bit copy represents almost exactly).
inline Data pixels(int64_t n, int64_t dim, uint64_t seed) {
  subset::Rng rng(seed);
  Data d{n, dim, std::vector<float>(static_cast<size_t>(n * dim))};
  for (int64_t i = 0; i < n; ++i) {
    const auto level = static_cast<uint64_t>(1 + rng.uniform_index(255));
    for (int64_t j = 0; j < dim; ++j)
      d.x[static_cast<size_t>(i * dim + j)] = static_cast<float>(rng.uniform_index(level)) / 255.0f;
  }
  return d;
}

}  // namespace subset::test
