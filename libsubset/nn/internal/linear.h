#pragma once
// The affine layer of the proxy models, y = x W^T + b, differentiable.
//
// On the CPU, with float32 contiguous tensors, the three matrix products (forward, and the
// gradients of x and W) run through oneDNN's sgemm: libtorch already loads oneDNN, whose
// just-in-time kernels use AVX-512 where the CPU has it, and measured twice as fast here as the
// OpenBLAS that at::addmm calls (Debian's OpenBLAS picks its Haswell kernels on this AMD EPYC).
// oneDNN threads with OpenMP like ATen's own kernels: one pool for the whole step. A product of
// at least 2^22 multiply-adds is cut into blocks of rows or columns fixed by its shape, shared
// among intra_op_threads() (all of them, also inside a SerialIntraOp), so that its bits do not
// depend on the thread count; a smaller one runs on one thread. Anything else (CUDA, other
// dtypes, double backward for gradient matching) takes at::addmm / at::mm.
#include <ATen/core/Tensor.h>

#include "libsubset/nn/internal/onednn_gemm.h"  // set_onednn_gemm

namespace subset::nn::internal {

// x [m, k], w [n, k], b [n] -> [m, n].
at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b);

// Whether linear() can use oneDNN's sgemm in this process (onednn_gemm.h's checked symbol).
bool onednn_gemm_available();

// The thread count for the few memory-bound kernels of a step worth running on all threads (the
// batch gather, Adam): intra_op_threads() when the products run on OpenMP too (oneDNN), 1 when
// they go to OpenBLAS, whose own pool would fight OpenMP's (see intra_op.h).
int bulk_threads();

}  // namespace subset::nn::internal
