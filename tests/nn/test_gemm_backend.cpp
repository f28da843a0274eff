// Tests for libsubset/nn/internal/onednn_gemm.h: the start-up check trusts this process's
// dnnl_sgemm and rejects a wrong product; the backend follows SUBSET_NN_GEMM=fallback (the
// "nn (fallback gemm): all" ctest entry runs this whole binary so) and set_onednn_gemm; and the
// autoencoder's stats record it.
#include <doctest/doctest.h>
#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "libsubset/core/rng.h"
#include "libsubset/nn/autoencoder.h"
#include "libsubset/nn/gemm_backend.h"
#include "libsubset/nn/internal/onednn_gemm.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/nn_entry.h"

using namespace subset;
namespace in = subset::nn::internal;

namespace {

bool fallback_forced() {
  const char* v = std::getenv("SUBSET_NN_GEMM");
  return v && std::string(v) == "fallback";
}

// Right for 'N', 'N' only: reads transposed operands as if they were not.
int ignores_transposes(char, char, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t,
                       const float* b, int64_t, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      float s = 0;
      for (int64_t p = 0; p < k; ++p) s += a[i * k + p] * b[p * n + j];
      c[i * ldc + j] = alpha * s + beta * 0.0f;
    }
  return 0;
}

int fails(char, char, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t, float, float*,
          int64_t) {
  return 1;
}

}  // namespace

TEST_CASE("the start-up check trusts this process's dnnl_sgemm and rejects wrong products") {
  const auto real = reinterpret_cast<in::Sgemm>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  REQUIRE(static_cast<bool>(real));  // Debian's libtorch links a shared oneDNN that exports it
  CHECK(in::sgemm_self_check(real));
  CHECK_FALSE(in::sgemm_self_check(&ignores_transposes));
  CHECK_FALSE(in::sgemm_self_check(&fails));
}

TEST_CASE("the backend is oneDNN's unless the fallback is forced or switched on") {
  if (fallback_forced()) {
    CHECK_FALSE(static_cast<bool>(in::onednn_sgemm()));
    CHECK(std::string(nn::gemm_backend()) == "libtorch-matmul");
  } else {
    CHECK(static_cast<bool>(in::onednn_sgemm()));
    CHECK(std::string(nn::gemm_backend()) == "onednn-sgemm");
  }
  in::set_onednn_gemm(false);
  CHECK_FALSE(static_cast<bool>(in::onednn_sgemm()));
  CHECK(std::string(nn::gemm_backend()) == "libtorch-matmul");
  in::set_onednn_gemm(true);
  CHECK(static_cast<bool>(in::onednn_sgemm()) != fallback_forced());
}

TEST_CASE("the autoencoder's stats name the backend its training ran on") {
  workflows::install_nn_providers();
  RowMatrixF x(64, 6);
  Rng rng(2);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.normal());
  auto ae = nn::make_autoencoder(transform::method("autoencoder")
                                     .params.resolve({{"encoder", "8"}, {"epochs", "1"}, {"batch", "32"}}));
  transform::FitOptions o;
  o.dim = 2;
  ae->fit(transform::rows_of(view(x)), o);
  CHECK(ae->save().stats.at("backend") == nn::gemm_backend());
}
