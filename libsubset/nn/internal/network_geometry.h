#pragma once
// The ConvNet's sizes and constants shared by its autograd forward (network.cpp) and its fused
// inference forward (network_inference.cpp).
#include <cstdint>
#include <vector>

#include "libsubset/nn/internal/network.h"

namespace subset::nn::internal {

constexpr double kNormEps = 1e-5;
// Input channels up to which the first conv takes the direct loops (first_block.h, and the fused
// forward's direct_conv) rather than libtorch's convolution or Winograd.
constexpr int64_t kDirectChannels = 4;

// The reference pads a 1-channel 28x28 input (MNIST-like) by 3 in the first conv, to 32x32.
inline int64_t first_padding(const InputShape& in) {
  return in.channels == 1 && in.height == 28 && in.width == 28 ? 3 : 1;
}

// The ConvNet's map sizes: entry 0 the first conv's output, entry d + 1 block d's pooled output.
struct MapSizes {
  std::vector<int64_t> h, w;
};

inline MapSizes map_sizes(const InputShape& in, int64_t height, int64_t width, int64_t depth) {
  const int64_t pad = first_padding(in);
  MapSizes s{{height + 2 * pad - 2}, {width + 2 * pad - 2}};
  for (int64_t d = 0; d < depth; ++d) {
    s.h.push_back(s.h.back() / 2);
    s.w.push_back(s.w.back() / 2);
  }
  return s;
}

}  // namespace subset::nn::internal
