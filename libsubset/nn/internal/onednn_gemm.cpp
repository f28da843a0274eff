#include "libsubset/nn/internal/onednn_gemm.h"

#include <dlfcn.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "libsubset/nn/gemm_backend.h"

namespace subset::nn::internal {
namespace {

std::atomic<bool> g_enabled{true};

bool fallback_forced() {
  const char* v = std::getenv("SUBSET_NN_GEMM");
  return v && std::strcmp(v, "fallback") == 0;
}

Sgemm checked_symbol() {
  if (fallback_forced()) return nullptr;
  const auto fn = reinterpret_cast<Sgemm>(dlsym(RTLD_DEFAULT, "dnnl_sgemm"));
  return fn && sgemm_self_check(fn) ? fn : nullptr;
}

}  // namespace

bool sgemm_self_check(Sgemm fn) {
  // Odd sizes (no kernel's block size), large enough for a vectorised kernel with a remainder.
  constexpr int64_t m = 7, n = 19, k = 13;
  std::vector<float> a(m * k), b(k * n);
  for (int64_t i = 0; i < m * k; ++i) a[static_cast<size_t>(i)] = static_cast<float>((i * 7) % 11) - 5.0f;
  for (int64_t i = 0; i < k * n; ++i) b[static_cast<size_t>(i)] = 0.25f * static_cast<float>((i * 5) % 13) - 1.5f;
  for (const char ta : {'N', 'T'}) {
    for (const char tb : {'N', 'T'}) {
      // A stored as op(A)^T when transposed, likewise B: the same product every time.
      std::vector<float> as(a), bs(b);
      if (ta == 'T')
        for (int64_t i = 0; i < m; ++i)
          for (int64_t p = 0; p < k; ++p) as[static_cast<size_t>(p * m + i)] = a[static_cast<size_t>(i * k + p)];
      if (tb == 'T')
        for (int64_t p = 0; p < k; ++p)
          for (int64_t j = 0; j < n; ++j) bs[static_cast<size_t>(j * k + p)] = b[static_cast<size_t>(p * n + j)];
      std::vector<float> c(m * n, std::nanf(""));
      const int status = fn(ta, tb, m, n, k, 1.0f, as.data(), ta == 'N' ? k : m, bs.data(), tb == 'N' ? n : k,
                            0.0f, c.data(), n);
      if (status != 0) return false;
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          double want = 0, scale = 0;
          for (int64_t p = 0; p < k; ++p) {
            const double t = double{a[static_cast<size_t>(i * k + p)]} * b[static_cast<size_t>(p * n + j)];
            want += t;
            scale += std::fabs(t);
          }
          const double got = c[static_cast<size_t>(i * n + j)];
          if (!(std::fabs(got - want) <= 1e-5 * (scale + 1))) return false;
        }
      }
    }
  }
  return true;
}

Sgemm onednn_sgemm() {
  static const Sgemm fn = checked_symbol();
  return g_enabled.load(std::memory_order_relaxed) ? fn : nullptr;
}

void set_onednn_gemm(bool enabled) { g_enabled.store(enabled, std::memory_order_relaxed); }

}  // namespace subset::nn::internal

namespace subset::nn {

const char* gemm_backend() { return internal::onednn_sgemm() ? "onednn-sgemm" : "libtorch-matmul"; }

}  // namespace subset::nn
