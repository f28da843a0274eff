#pragma once
// The ConvNet's first block (3x3 conv of a few input channels, instance norm, ReLU, 2x2 average
// pooling) as one autograd function, for inputs that need no gradient: the real batches of
// gradient matching, the network training between its outer steps, and the evaluation protocol.
//
// Why by hand: with one input channel, libtorch's convolution runs at a few GFLOP/s here, and the
// norm, ReLU and pooling passes over the 128 x 32 x 32 maps are memory-bound; together this block
// took about 45% of a training step's forward and backward on 28x28 images. Fused per image and
// channel, every map stays in cache and the block costs a few percent. The backward recomputes the
// convolution (9 multiply-adds per pixel) rather than storing the maps.
#include <ATen/core/Tensor.h>

#include <cstdint>

namespace subset::nn::internal {

// x [N, C, H, W] float32 on the CPU, not requiring grad; weight [width, C, 3, 3], bias, gamma,
// beta [width]. Returns [N, width, Ho/2, Wo/2] with Ho = H + 2 pad - 2: exactly
// avg_pool2d(relu(group_norm(conv2d(x, weight, bias, pad), width, gamma, beta, eps)), 2), with
// first-order gradients for weight, bias, gamma and beta (none for x).
at::Tensor first_block(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& gamma,
                       const at::Tensor& beta, int64_t pad, double eps);

// The same block's norm, ReLU and pooling after libtorch's convolution, for the later blocks of a
// network whose input needs no gradient: y [N, C, H, W] -> avg_pool2d(relu(group_norm(y, C, gamma,
// beta, eps)), 2), in one pass per image and channel, with first-order gradients for y, gamma and
// beta.
at::Tensor norm_relu_pool(const at::Tensor& y, const at::Tensor& gamma, const at::Tensor& beta, double eps);

}  // namespace subset::nn::internal
