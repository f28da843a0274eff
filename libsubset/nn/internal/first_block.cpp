#include "libsubset/nn/internal/first_block.h"

#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/zeros.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "libsubset/nn/internal/simd.h"

namespace subset::nn::internal {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Geometry {
  int64_t n, channels, h, w, pad, width;
  int64_t hp() const { return h + 2 * pad; }
  int64_t wp() const { return w + 2 * pad; }
  int64_t ho() const { return hp() - 2; }
  int64_t wo() const { return wp() - 2; }
  int64_t pixels() const { return ho() * wo(); }
  int64_t hq() const { return ho() / 2; }
  int64_t wq() const { return wo() / 2; }
};

// Image i zero-padded into `padded` [channels, hp, wp].
void pad_image(const float* x, const Geometry& g, int64_t i, std::vector<float>& padded) {
  padded.assign(static_cast<size_t>(g.channels * g.hp() * g.wp()), 0.0f);
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t r = 0; r < g.h; ++r) {
      const float* src = x + ((i * g.channels + c) * g.h + r) * g.w;
      std::copy(src, src + g.w, padded.data() + (c * g.hp() + r + g.pad) * g.wp() + g.pad);
    }
}

// Output channel o of the convolution over the padded image: conv [ho * wo].
SUBSET_SIMD_CLONES void conv_channel(const float* padded, const float* weight, float bias, const Geometry& g, int64_t o, float* conv) {
  const int64_t ho = g.ho(), wo = g.wo(), wp = g.wp();
  std::fill(conv, conv + ho * wo, bias);
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t ky = 0; ky < 3; ++ky)
      for (int64_t kx = 0; kx < 3; ++kx) {
        const float tap = weight[((o * g.channels + c) * 3 + ky) * 3 + kx];
        for (int64_t r = 0; r < ho; ++r) {
          const float* src = padded + (c * g.hp() + r + ky) * wp + kx;
          float* dst = conv + r * wo;
          for (int64_t q = 0; q < wo; ++q) dst[q] += tap * src[q];
        }
      }
}

SUBSET_SIMD_CLONES void mean_rstd(const float* conv, int64_t count, double eps, float& mean, float& rstd) {
  double sum = 0, sum_sq = 0;
  for (int64_t p = 0; p < count; ++p) sum += conv[p];
  const double m = sum / static_cast<double>(count);
  for (int64_t p = 0; p < count; ++p) sum_sq += (conv[p] - m) * (conv[p] - m);
  mean = static_cast<float>(m);
  rstd = static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(count) + eps));
}

// The backward of one (image, output channel) map of the first block: adds the map's share of
// the weight, bias, gamma and beta gradients to a_o [taps, bias, gamma, beta]. dy [ho * wo] and up
// [wo] are scratch.
SUBSET_SIMD_CLONES void first_block_map_backward(const float* conv, const float* padded, const float* d, const Geometry& g,
                                                 float m, float r, float gamma, float beta, float* dy, float* up,
                                                 double* a_o) {
  const int64_t count = g.pixels(), taps = g.channels * 9, ho = g.ho(), wo = g.wo(), wq = g.wq();
  const float scale = gamma * r, shift = beta - m * scale;
  // da: the pooled gradient spread over each 2x2 window where the ReLU was open (pixels outside the
  // pooled area of an odd-sized map get none; `up` [wo] holds one row of the spread gradient); then
  // the norm's backward.
  float sum_da = 0, sum_da_xhat = 0;
  for (int64_t r0 = 0; r0 < ho; ++r0) {
    const bool pooled_row = r0 / 2 < g.hq();
    const float* drow = d + (r0 / 2) * wq;
    for (int64_t q = 0; q < wo; ++q) up[q] = pooled_row && q / 2 < wq ? 0.25f * drow[q / 2] : 0.0f;
    const float* c = conv + r0 * wo;
    float* out = dy + r0 * wo;
    for (int64_t q = 0; q < wo; ++q) {
      const float da = c[q] * scale + shift > 0 ? up[q] : 0.0f;
      out[q] = da;
      sum_da += da;
      sum_da_xhat += da * ((c[q] - m) * r);
    }
  }
  a_o[taps + 1] += sum_da_xhat;  // gamma
  a_o[taps + 2] += sum_da;       // beta
  // dy = rstd * gamma * (da - mean(da) - xhat * mean(da * xhat))
  const float mean_da = sum_da / static_cast<float>(count);
  const float mean_da_xhat = sum_da_xhat / static_cast<float>(count);
  float sum_dy = 0;
  for (int64_t p = 0; p < count; ++p) {
    dy[p] = scale * (dy[p] - mean_da - (conv[p] - m) * r * mean_da_xhat);
    sum_dy += dy[p];
  }
  a_o[taps] += sum_dy;  // bias
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t ky = 0; ky < 3; ++ky)
      for (int64_t kx = 0; kx < 3; ++kx) {
        float s = 0;
        for (int64_t r0 = 0; r0 < ho; ++r0) {
          const float* src = padded + (c * g.hp() + r0 + ky) * g.wp() + kx;
          const float* dyr = dy + r0 * wo;
          for (int64_t q = 0; q < wo; ++q) s += dyr[q] * src[q];
        }
        a_o[(c * 3 + ky) * 3 + kx] += s;
      }
}

// One (image, channel) map: the pooled output of norm + affine + ReLU, from its statistics.
SUBSET_SIMD_CLONES void pool_map(const float* y, int64_t h, int64_t w, float scale, float shift, float* out) {
  const int64_t hq = h / 2, wq = w / 2;
  for (int64_t a = 0; a < hq; ++a)
    for (int64_t b = 0; b < wq; ++b) {
      const float* c0 = y + (2 * a) * w + 2 * b;
      const float* c1 = c0 + w;
      out[a * wq + b] = 0.25f * (std::max(0.0f, c0[0] * scale + shift) + std::max(0.0f, c0[1] * scale + shift) +
                                 std::max(0.0f, c1[0] * scale + shift) + std::max(0.0f, c1[1] * scale + shift));
    }
}

struct FirstBlockFunction : public torch::autograd::Function<FirstBlockFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x_in, const at::Tensor& weight_in,
                            const at::Tensor& bias_in, const at::Tensor& gamma_in, const at::Tensor& beta_in, int64_t pad,
                            double eps) {
    const at::Tensor x = x_in.contiguous(), weight = weight_in.contiguous();
    const at::Tensor bias = bias_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
    const Geometry g{x.size(0), x.size(1), x.size(2), x.size(3), pad, weight.size(0)};
    at::Tensor out = at::empty({g.n, g.width, g.hq(), g.wq()}, x.options());
    at::Tensor mean = at::empty({g.n, g.width}, x.options()), rstd = at::empty({g.n, g.width}, x.options());
    const float *xp = x.data_ptr<float>(), *wptr = weight.data_ptr<float>(), *bptr = bias.data_ptr<float>();
    const float *gp = gamma.data_ptr<float>(), *betap = beta.data_ptr<float>();
    float *op = out.data_ptr<float>(), *mp = mean.data_ptr<float>(), *rp = rstd.data_ptr<float>();
    at::parallel_for(0, g.n, 1, [&](int64_t begin, int64_t end) {
      std::vector<float> padded, conv(static_cast<size_t>(g.pixels()));
      for (int64_t i = begin; i < end; ++i) {
        pad_image(xp, g, i, padded);
        for (int64_t o = 0; o < g.width; ++o) {
          conv_channel(padded.data(), wptr, bptr[o], g, o, conv.data());
          float& m = mp[i * g.width + o];
          float& r = rp[i * g.width + o];
          mean_rstd(conv.data(), g.pixels(), eps, m, r);
          const float scale = gp[o] * r, shift = betap[o] - m * scale;
          pool_map(conv.data(), g.ho(), g.wo(), scale, shift, op + (i * g.width + o) * g.hq() * g.wq());
        }
      }
    });
    ctx->save_for_backward({x, weight, bias, gamma, beta, mean, rstd});
    ctx->saved_data["pad"] = pad;
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &weight = saved[1], &bias = saved[2], &gamma = saved[3];
    const at::Tensor &beta = saved[4], &mean = saved[5], &rstd = saved[6];
    const at::Tensor dout = grads[0].contiguous();
    const Geometry g{x.size(0), x.size(1), x.size(2), x.size(3), ctx->saved_data["pad"].toInt(), weight.size(0)};
    const int64_t taps = g.channels * 9;
    // Per-thread partial sums, added in thread order: the same bits for the same thread count.
    const int threads = at::get_num_threads();
    std::vector<std::vector<double>> partial(static_cast<size_t>(threads),
                                             std::vector<double>(static_cast<size_t>(g.width * (taps + 3)), 0.0));
    const float *xp = x.data_ptr<float>(), *wptr = weight.data_ptr<float>(), *bptr = bias.data_ptr<float>();
    const float *gp = gamma.data_ptr<float>(), *betap = beta.data_ptr<float>(), *dp = dout.data_ptr<float>();
    const float *mp = mean.data_ptr<float>(), *rp = rstd.data_ptr<float>();
    at::parallel_for(0, g.n, 1, [&](int64_t begin, int64_t end) {
      std::vector<double>& acc = partial[static_cast<size_t>(at::get_thread_num())];
      std::vector<float> padded, conv(static_cast<size_t>(g.pixels())), dy(static_cast<size_t>(g.pixels()));
      std::vector<float> up(static_cast<size_t>(g.wo()));
      for (int64_t i = begin; i < end; ++i) {
        pad_image(xp, g, i, padded);
        for (int64_t o = 0; o < g.width; ++o) {
          conv_channel(padded.data(), wptr, bptr[o], g, o, conv.data());
          const float* d = dp + (i * g.width + o) * g.hq() * g.wq();
          first_block_map_backward(conv.data(), padded.data(), d, g, mp[i * g.width + o], rp[i * g.width + o], gp[o],
                                   betap[o], dy.data(), up.data(), acc.data() + o * (taps + 3));
        }
      }
    });
    std::vector<double> total(static_cast<size_t>(g.width * (taps + 3)), 0.0);
    for (const auto& p : partial)
      for (size_t k = 0; k < total.size(); ++k) total[k] += p[k];
    at::Tensor dw = at::empty_like(weight), db = at::empty_like(bias), dg = at::empty_like(gamma), dbeta = at::empty_like(beta);
    float *dwp = dw.data_ptr<float>(), *dbp = db.data_ptr<float>(), *dgp = dg.data_ptr<float>(), *dbetap = dbeta.data_ptr<float>();
    for (int64_t o = 0; o < g.width; ++o) {
      const double* t = total.data() + o * (taps + 3);
      for (int64_t k = 0; k < taps; ++k) dwp[o * taps + k] = static_cast<float>(t[k]);
      dbp[o] = static_cast<float>(t[taps]);
      dgp[o] = static_cast<float>(t[taps + 1]);
      dbetap[o] = static_cast<float>(t[taps + 2]);
    }
    return {at::Tensor(), dw, db, dg, dbeta, at::Tensor(), at::Tensor()};
  }
};


// The backward of norm + affine + ReLU + pooling on one (image, channel) map: g = dL/dy, and the
// map's shares of the gamma and beta gradients.
SUBSET_SIMD_CLONES void norm_map_backward(const float* yk, const float* d, int64_t h, int64_t w, float m, float r,
                                          float gamma, float beta, float* g, double& dgamma, double& dbeta) {
  const int64_t count = h * w, hq = h / 2, wq = w / 2;
  const float scale = gamma * r, shift = beta - m * scale;
  double sum_da = 0, sum_da_xhat = 0;
  for (int64_t row = 0; row < h; ++row)
    for (int64_t col = 0; col < w; ++col) {
      const int64_t p = row * w + col;
      const bool pooled = row / 2 < hq && col / 2 < wq;
      const float da = pooled && yk[p] * scale + shift > 0 ? 0.25f * d[(row / 2) * wq + col / 2] : 0.0f;
      g[p] = da;
      sum_da += da;
      sum_da_xhat += static_cast<double>(da) * ((yk[p] - m) * r);
    }
  dgamma = sum_da_xhat;
  dbeta = sum_da;
  const float mean_da = static_cast<float>(sum_da / static_cast<double>(count));
  const float mean_da_xhat = static_cast<float>(sum_da_xhat / static_cast<double>(count));
  for (int64_t p = 0; p < count; ++p) g[p] = scale * (g[p] - mean_da - (yk[p] - m) * r * mean_da_xhat);
}

struct NormReluPoolFunction : public torch::autograd::Function<NormReluPoolFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& y_in, const at::Tensor& gamma_in,
                            const at::Tensor& beta_in, double eps) {
    const at::Tensor y = y_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
    const int64_t n = y.size(0), c = y.size(1), h = y.size(2), w = y.size(3);
    at::Tensor out = at::empty({n, c, h / 2, w / 2}, y.options());
    at::Tensor mean = at::empty({n, c}, y.options()), rstd = at::empty({n, c}, y.options());
    const float *yp = y.data_ptr<float>(), *gp = gamma.data_ptr<float>(), *bp = beta.data_ptr<float>();
    float *op = out.data_ptr<float>(), *mp = mean.data_ptr<float>(), *rp = rstd.data_ptr<float>();
    at::parallel_for(0, n * c, 16, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const int64_t ch = k % c;
        mean_rstd(yp + k * h * w, h * w, eps, mp[k], rp[k]);
        const float scale = gp[ch] * rp[k];
        pool_map(yp + k * h * w, h, w, scale, bp[ch] - mp[k] * scale, op + k * (h / 2) * (w / 2));
      }
    });
    ctx->save_for_backward({y, gamma, beta, mean, rstd});
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &y = saved[0], &gamma = saved[1], &beta = saved[2], &mean = saved[3], &rstd = saved[4];
    const at::Tensor dout = grads[0].contiguous();
    const int64_t n = y.size(0), c = y.size(1), h = y.size(2), w = y.size(3), hq = h / 2, wq = w / 2;
    at::Tensor dy = at::empty_like(y);
    // Per (image, channel) sums for gamma and beta, added up per channel in image order afterwards:
    // the same bits at any thread count.
    std::vector<double> dgamma_parts(static_cast<size_t>(n * c)), dbeta_parts(static_cast<size_t>(n * c));
    const float *yp = y.data_ptr<float>(), *gp = gamma.data_ptr<float>(), *bp = beta.data_ptr<float>();
    const float *mp = mean.data_ptr<float>(), *rp = rstd.data_ptr<float>(), *dp = dout.data_ptr<float>();
    float* dyp = dy.data_ptr<float>();
    at::parallel_for(0, n * c, 16, [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) {
        const int64_t ch = k % c;
        norm_map_backward(yp + k * h * w, dp + k * hq * wq, h, w, mp[k], rp[k], gp[ch], bp[ch], dyp + k * h * w,
                          dgamma_parts[static_cast<size_t>(k)], dbeta_parts[static_cast<size_t>(k)]);
      }
    });
    at::Tensor dgamma = at::empty_like(gamma), dbeta = at::empty_like(beta);
    for (int64_t ch = 0; ch < c; ++ch) {
      double sg = 0, sb = 0;
      for (int64_t i = 0; i < n; ++i) sg += dgamma_parts[static_cast<size_t>(i * c + ch)], sb += dbeta_parts[static_cast<size_t>(i * c + ch)];
      dgamma.data_ptr<float>()[ch] = static_cast<float>(sg);
      dbeta.data_ptr<float>()[ch] = static_cast<float>(sb);
    }
    return {dy, dgamma, dbeta, at::Tensor()};
  }
};

}  // namespace

at::Tensor norm_relu_pool(const at::Tensor& y, const at::Tensor& gamma, const at::Tensor& beta, double eps) {
  return NormReluPoolFunction::apply(y, gamma, beta, eps);
}

at::Tensor first_block(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& gamma,
                       const at::Tensor& beta, int64_t pad, double eps) {
  return FirstBlockFunction::apply(x, weight, bias, gamma, beta, pad, eps);
}

}  // namespace subset::nn::internal
