#include "libsubset/nn/internal/linear.h"

#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/addmm.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/mm.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstdint>

#include "libsubset/core/error.h"
#include "libsubset/nn/internal/intra_op.h"
#include "libsubset/nn/internal/onednn_gemm.h"

namespace subset::nn::internal {
namespace {

// Below this many multiply-adds (about 40 us on one core) a product runs on one thread: a
// parallel region costs more than it saves (the proxy MLP's 256 x 256 x 10 layer, for instance).
constexpr int64_t kParallelProduct = int64_t{1} << 22;

// out[m, n] = op(a) op(b), all row-major float32 contiguous. oneDNN, left to thread a product
// itself, splits the inner dimension of some shapes (a batch of 96 rows, for instance), so that
// the sums, and the trained model, change with the thread count. Here a large product is cut into
// blocks of rows or columns of `out` whose bounds depend on the shape alone, each block one
// single-threaded sgemm, and the blocks are shared among intra_op_threads(): the same bits at any
// thread count, at no measurable cost (oneDNN's own 2-thread split is no faster).
void sgemm(char ta, char tb, int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* out) {
  const int64_t lda = ta == 'N' ? k : m, ldb = tb == 'N' ? n : k;
  const Sgemm fn = onednn_sgemm();
  // A backward after set_onednn_gemm(false) of a forward that ran on oneDNN.
  SUBSET_CHECK(fn != nullptr, "oneDNN", "dnnl_sgemm switched off between a product's forward and backward");
  // Rows [m0, m0 + mc) and columns [n0, n0 + nc) of out.
  auto block = [&](int64_t m0, int64_t mc, int64_t n0, int64_t nc) {
    const float* a0 = ta == 'N' ? a + m0 * lda : a + m0;
    const float* b0 = tb == 'N' ? b + n0 : b + n0 * ldb;
    const OmpThreads one(1);  // oneDNN itself on one thread, whatever the caller's count
    const int status = fn(ta, tb, mc, nc, k, 1.0f, a0, lda, b0, ldb, 0.0f, out + m0 * n + n0, n);
    SUBSET_CHECK(status == 0, "oneDNN", "dnnl_sgemm failed with status " << status);
  };
  if (m * n * k < kParallelProduct) {
    block(0, m, 0, n);
    return;
  }
  // Up to 16 blocks of at least 64 rows (or columns), a multiple of 16.
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n;
  const int64_t size = std::max<int64_t>(64, ((extent + 15) / 16 + 15) / 16 * 16);
  const int64_t blocks = (extent + size - 1) / size;
  const OmpThreads threads(intra_op_threads());
  // Inside the parallel region oneDNN runs on the calling thread.
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t first = i * size, count = std::min(size, extent - first);
      if (by_rows) {
        block(first, count, 0, n);
      } else {
        block(0, m, first, count);
      }
    }
  });
}

struct OnednnLinear : public torch::autograd::Function<OnednnLinear> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            const at::Tensor& b) {
    ctx->save_for_backward({x, w});
    at::Tensor y = at::empty({x.size(0), w.size(0)}, x.options());
    sgemm('N', 'T', x.size(0), w.size(0), x.size(1), x.data_ptr<float>(), w.data_ptr<float>(), y.data_ptr<float>());
    return y.add_(b);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& w = saved[1];
    const at::Tensor gy = grads[0].contiguous();
    at::Tensor gx, gw, gb;
    // create_graph (gradient matching differentiates this backward again): differentiable ATen ops.
    const bool differentiable = at::GradMode::is_enabled();
    if (ctx->needs_input_grad(0)) {
      if (differentiable) {
        gx = at::mm(gy, w);
      } else {
        gx = at::empty_like(x);
        sgemm('N', 'N', gy.size(0), w.size(1), gy.size(1), gy.data_ptr<float>(), w.data_ptr<float>(),
              gx.data_ptr<float>());
      }
    }
    if (ctx->needs_input_grad(1)) {
      if (differentiable) {
        gw = at::mm(gy.t(), x);
      } else {
        gw = at::empty_like(w);
        sgemm('T', 'N', gy.size(1), x.size(1), gy.size(0), gy.data_ptr<float>(), x.data_ptr<float>(),
              gw.data_ptr<float>());
      }
    }
    if (ctx->needs_input_grad(2)) {
      const OmpThreads one(1);  // a reduction split between threads would sum in another order
      gb = gy.sum(0);
    }
    return {gx, gw, gb};
  }
};

bool onednn_applies(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  auto plain = [](const at::Tensor& t) {
    return t.device().is_cpu() && t.scalar_type() == at::kFloat && t.is_contiguous() && t.numel() > 0;
  };
  return onednn_sgemm() && x.dim() == 2 && w.dim() == 2 && b.dim() == 1 &&
         plain(x) && plain(w) && plain(b);
}

}  // namespace

bool onednn_gemm_available() { return onednn_sgemm() != nullptr; }

int bulk_threads() { return onednn_gemm_available() ? intra_op_threads() : 1; }

at::Tensor linear(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) {
  if (onednn_applies(x, w, b)) return OnednnLinear::apply(x, w, b);
  return at::addmm(b, x, w.t());
}

}  // namespace subset::nn::internal
