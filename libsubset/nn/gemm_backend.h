#pragma once
// Which path the nn layer's float32 matrix products take in this process (the proxy models'
// linear layers, the Winograd conv): recorded as "backend" in the reports of whatever trains.
namespace subset::nn {

// "onednn-sgemm": oneDNN's dnnl_sgemm, found in the process and checked against a naive product
// at first use; "libtorch-matmul": at::addmm / at::mm, when the symbol is missing, fails the
// check, or SUBSET_NN_GEMM=fallback is set in the environment.
const char* gemm_backend();

}  // namespace subset::nn
