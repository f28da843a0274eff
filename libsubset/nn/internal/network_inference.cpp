// The ConvNet's fused inference forward, Network::embed_inference (network.h).
#include "libsubset/nn/internal/network.h"

// Per-operator headers rather than <torch/torch.h> or <ATen/ATen.h>: a few seconds less per file.
#include <ATen/Parallel.h>
#include <ATen/core/grad_mode.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/mm.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/nn/internal/intra_op.h"
#include "libsubset/nn/internal/network_geometry.h"
#include "libsubset/nn/internal/onednn_gemm.h"
#include "libsubset/nn/internal/simd.h"

namespace subset::nn::internal {
namespace {

// ---- embed_inference: the fused forward ------------------------------------------------------------
//
// DM embeds thousands of real images per iteration with a fresh network. The plain forward spends
// most of its time outside arithmetic: PyTorch's conv2d for one input channel is slow, and the
// norm, ReLU and pooling each stream the [N, 128, 32, 32] map through memory. Here a thread takes
// a block of kBlock images through the whole network while its maps stay in cache:
//  - a first conv with at most kDirectChannels input channels is a direct 3x3 loop, one image at
//    a time, vectorised over the output channels;
//  - every other conv (padding 1) is Winograd F(2x2, 3x3) on channels-last maps: 16 products
//    [tiles, in] x [in, out] (oneDNN's sgemm, on the calling thread), 16 multiplications per 2x2
//    output tile and channel pair instead of 36;
//  - instance norm, affine, ReLU and 2x2 average pooling are one kernel over an image's conv output
//    (in cache) that writes only the pooled map: channels-last between blocks, the features'
//    [C, H, W] order at the end.
// Measured with 2560 MNIST-sized images on 1 thread: 0.6-0.8 s here against 4.9 s for embed()
// (tests/benchmarks/bench_network.cpp), of which oneDNN's products are about two thirds.
// The conv biases are never added: the instance norm subtracts every channel's mean, so a bias
// cancels exactly. Blocks and Winograd chunks have fixed bounds, so the bits do not depend on the
// thread count.

constexpr int64_t kBlock = 8;
constexpr int64_t kChunkTiles = 128;  // Winograd tiles per product: the best measured rows for sgemm

// The first conv of one image with few input channels, channels-last: out [h, w, width] from
// `padded` [channels, h + 2, w + 2] (the image with its zero padding) and taps [channels * 9][width]
// (the weights transposed). Vectorised over the output channels, in L1 per pixel.
SUBSET_SIMD_CLONES
void direct_conv(const float* __restrict padded, int64_t channels, int64_t h, int64_t w, const float* __restrict taps,
                 int64_t width, float* __restrict out) {
  const int64_t wp = w + 2, plane = (h + 2) * wp;
  for (int64_t i = 0; i < h; ++i) {
    for (int64_t j = 0; j < w; ++j) {
      float* o = out + (i * w + j) * width;
      for (int64_t c = 0; c < channels; ++c) {
        // The nine taps of input channel c, summed in registers.
        const float* r0 = padded + c * plane + i * wp + j;
        const float* r1 = r0 + wp;
        const float* r2 = r1 + wp;
        const float x0 = r0[0], x1 = r0[1], x2 = r0[2], x3 = r1[0], x4 = r1[1], x5 = r1[2], x6 = r2[0], x7 = r2[1],
                    x8 = r2[2];
        const float* t = taps + c * 9 * width;
        if (c == 0) {
          for (int64_t q = 0; q < width; ++q) {
            o[q] = x0 * t[q] + x1 * t[width + q] + x2 * t[2 * width + q] + x3 * t[3 * width + q] +
                   x4 * t[4 * width + q] + x5 * t[5 * width + q] + x6 * t[6 * width + q] + x7 * t[7 * width + q] +
                   x8 * t[8 * width + q];
          }
        } else {
          for (int64_t q = 0; q < width; ++q) {
            o[q] += x0 * t[q] + x1 * t[width + q] + x2 * t[2 * width + q] + x3 * t[3 * width + q] +
                    x4 * t[4 * width + q] + x5 * t[5 * width + q] + x6 * t[6 * width + q] + x7 * t[7 * width + q] +
                    x8 * t[8 * width + q];
          }
        }
      }
    }
  }
}

// Instance norm of one image's channels-last map v [h, w, width] (eps 1e-5, then gamma, beta),
// ReLU and 2x2 average pooling; pooled (i, j) of channel c goes to
// out[(i * (w / 2) + j) * pixel_stride + c * channel_stride]. Two-pass mean and variance, all
// loops vectorised over the channels. `scratch` holds 4 * width floats.
SUBSET_SIMD_CLONES
void norm_pool_nhwc(const float* __restrict v, int64_t h, int64_t w, int64_t width, const float* gamma,
                    const float* beta, float* __restrict scratch, float* out, int64_t pixel_stride,
                    int64_t channel_stride) {
  float* __restrict mean = scratch;
  float* __restrict scale = scratch + width;  // first the variance
  float* __restrict shift = scratch + 2 * width;
  float* __restrict pooled = scratch + 3 * width;
  const int64_t n = h * w;
  std::fill(mean, mean + 2 * width, 0.0f);
  for (int64_t p = 0; p < n; ++p) {
    const float* q = v + p * width;
    for (int64_t c = 0; c < width; ++c) mean[c] += q[c];
  }
  const float inv_n = 1.0f / static_cast<float>(n);
  for (int64_t c = 0; c < width; ++c) mean[c] *= inv_n;
  for (int64_t p = 0; p < n; ++p) {
    const float* q = v + p * width;
    for (int64_t c = 0; c < width; ++c) {
      const float d = q[c] - mean[c];
      scale[c] += d * d;
    }
  }
  for (int64_t c = 0; c < width; ++c) {
    scale[c] = gamma[c] / std::sqrt(scale[c] * inv_n + static_cast<float>(kNormEps));
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  const int64_t ph = h / 2, pw = w / 2;
  for (int64_t i = 0; i < ph; ++i) {
    for (int64_t j = 0; j < pw; ++j) {
      const float* q00 = v + ((2 * i) * w + 2 * j) * width;
      const float* q01 = q00 + width;
      const float* q10 = q00 + w * width;
      const float* q11 = q10 + width;
      for (int64_t c = 0; c < width; ++c) {
        pooled[c] = 0.25f * (std::max(q00[c] * scale[c] + shift[c], 0.0f) + std::max(q01[c] * scale[c] + shift[c], 0.0f) +
                             std::max(q10[c] * scale[c] + shift[c], 0.0f) + std::max(q11[c] * scale[c] + shift[c], 0.0f));
      }
      float* o = out + (i * pw + j) * pixel_stride;
      if (channel_stride == 1) {
        std::copy(pooled, pooled + width, o);
      } else {
        for (int64_t c = 0; c < width; ++c) o[c * channel_stride] = pooled[c];
      }
    }
  }
}

// Winograd F(2x2, 3x3) (Lavin & Gray 2016): a 2x2 output tile is A^T [(G g G^T) * (B^T d B)] A
// for the 4x4 input patch d around it, summed over input channels, with
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], G = [1 0 0; .5 .5 .5; .5 -.5 .5; 0 0 1],
//   A^T = [1 1 1 0; 0 1 -1 -1].
// The transformed weights u [16][in][out] (element k = 4 i + j of the 4x4 transform), into `u`.
void winograd_weights(const float* weight, int64_t out, int64_t in, std::vector<float>& u) {
  u.resize(static_cast<size_t>(16 * in * out));
  for (int64_t o = 0; o < out; ++o) {
    for (int64_t c = 0; c < in; ++c) {
      const float* g = weight + (o * in + c) * 9;
      float gg[4][3];  // G g
      for (int j = 0; j < 3; ++j) {
        gg[0][j] = g[j];
        gg[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
        gg[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
        gg[3][j] = g[6 + j];
      }
      for (int i = 0; i < 4; ++i) {  // (G g) G^T
        const float t[4] = {gg[i][0], 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]), 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]),
                            gg[i][2]};
        for (int j = 0; j < 4; ++j) u[static_cast<size_t>(((4 * i + j) * in + c) * out + o)] = t[j];
      }
    }
  }
}

// B^T applied to the four channel vectors src + k * src_step, k < 4, into dst + k * dst_step.
// Always inlined: a call from a clone would run the baseline build of this loop.
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
inline void winograd_bt(const float* __restrict src, int64_t src_step, float* __restrict dst, int64_t dst_step,
                        int64_t in) {
  const float* d0 = src;
  const float* d1 = src + src_step;
  const float* d2 = src + 2 * src_step;
  const float* d3 = src + 3 * src_step;
  for (int64_t c = 0; c < in; ++c) {
    dst[c] = d0[c] - d2[c];
    dst[dst_step + c] = d1[c] + d2[c];
    dst[2 * dst_step + c] = d2[c] - d1[c];
    dst[3 * dst_step + c] = d1[c] - d3[c];
  }
}

// B^T d B of a patch p [4][4][in] (channels-last) into v[k * v_stride + c], k = 4 i + j, through
// t [16][in] (B^T d): plain loops over the channels, which vectorise.
SUBSET_SIMD_CLONES
void winograd_input(const float* __restrict p, int64_t in, float* __restrict t, float* __restrict v,
                    int64_t v_stride) {
  for (int64_t j = 0; j < 4; ++j) winograd_bt(p + j * in, 4 * in, t + j * in, 4 * in, in);  // B^T d, column j
  for (int64_t i = 0; i < 4; ++i) winograd_bt(t + 4 * i * in, in, v + 4 * i * v_stride, v_stride, in);  // row i of (B^T d) B
}

// A^T m A of one tile's products m[k * m_stride + o] into y [2][2][out].
SUBSET_SIMD_CLONES
void winograd_output(const float* __restrict m, int64_t m_stride, int64_t out, float* __restrict y) {
  for (int64_t o = 0; o < out; ++o) {
    float s[2][4];
    for (int j = 0; j < 4; ++j) {  // A^T m
      const float m0 = m[j * m_stride + o], m1 = m[(4 + j) * m_stride + o], m2 = m[(8 + j) * m_stride + o],
                  m3 = m[(12 + j) * m_stride + o];
      s[0][j] = m0 + m1 + m2;
      s[1][j] = m1 - m2 - m3;
    }
    for (int i = 0; i < 2; ++i) {  // (A^T m) A
      y[(2 * i + 0) * out + o] = s[i][0] + s[i][1] + s[i][2];
      y[(2 * i + 1) * out + o] = s[i][1] - s[i][2] - s[i][3];
    }
  }
}

// Row-major C = A B: oneDNN's sgemm (onednn_gemm.h); at::mm where it is missing or not trusted.
void matmul(int64_t m, int64_t n, int64_t k, const float* a, const float* b, float* c) {
  if (const Sgemm sgemm = onednn_sgemm()) {
    const int status = sgemm('N', 'N', m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
    SUBSET_CHECK(status == 0, "oneDNN", "dnnl_sgemm failed with status " << status);
    return;
  }
  const auto floats = at::TensorOptions().dtype(at::kFloat);
  at::Tensor out = at::from_blob(c, {m, n}, floats);
  at::mm_out(out, at::from_blob(const_cast<float*>(a), {m, k}, floats),
             at::from_blob(const_cast<float*>(b), {k, n}, floats));
}

// Per-thread buffers of the Winograd conv.
struct WinogradScratch {
  std::vector<float> patch, half_done, v, m, tile;
};

// 3x3 conv with padding 1, without bias, of x [images, h, w, in] into y [images, h, w, out], both
// channels-last; u from winograd_weights. Tiles are taken kChunkTiles at a time across images.
void winograd_conv(const float* x, int64_t images, int64_t h, int64_t w, int64_t in, const float* u, int64_t out,
                   float* y, WinogradScratch& s) {
  const int64_t th = (h + 1) / 2, tw = (w + 1) / 2, per_image = th * tw, tiles = images * per_image;
  s.patch.resize(static_cast<size_t>(16 * in));
  s.half_done.resize(static_cast<size_t>(16 * in));
  s.v.resize(static_cast<size_t>(16 * kChunkTiles * in));
  s.m.resize(static_cast<size_t>(16 * kChunkTiles * out));
  s.tile.resize(static_cast<size_t>(4 * out));
  for (int64_t t0 = 0; t0 < tiles; t0 += kChunkTiles) {
    const int64_t count = std::min(kChunkTiles, tiles - t0);
    for (int64_t t = 0; t < count; ++t) {
      const int64_t b = (t0 + t) / per_image, ti = (t0 + t) % per_image / tw, tj = (t0 + t) % tw;
      const float* image = x + b * h * w * in;
      // The 4x4 patch from row 2 ti - 1 and column 2 tj - 1, zero outside the image.
      const int64_t c0 = 2 * tj - 1, first = std::max<int64_t>(c0, 0), last = std::min<int64_t>(c0 + 4, w);
      for (int64_t i = 0; i < 4; ++i) {
        const int64_t r = 2 * ti - 1 + i;
        float* dst = s.patch.data() + 4 * i * in;
        if (r < 0 || r >= h) {
          std::fill(dst, dst + 4 * in, 0.0f);
          continue;
        }
        std::fill(dst, dst + (first - c0) * in, 0.0f);
        std::copy(image + (r * w + first) * in, image + (r * w + last) * in, dst + (first - c0) * in);
        std::fill(dst + (last - c0) * in, dst + 4 * in, 0.0f);
      }
      winograd_input(s.patch.data(), in, s.half_done.data(), s.v.data() + t * in, count * in);
    }
    for (int64_t k = 0; k < 16; ++k) {
      matmul(count, out, in, s.v.data() + k * count * in, u + k * in * out, s.m.data() + k * count * out);
    }
    for (int64_t t = 0; t < count; ++t) {
      const int64_t b = (t0 + t) / per_image, ti = (t0 + t) % per_image / tw, tj = (t0 + t) % tw;
      winograd_output(s.m.data() + t * out, count * out, out, s.tile.data());
      for (int64_t i = 0; i < 2 && 2 * ti + i < h; ++i) {
        for (int64_t j = 0; j < 2 && 2 * tj + j < w; ++j) {
          const float* src = s.tile.data() + (2 * i + j) * out;
          std::copy(src, src + out, y + ((b * h + 2 * ti + i) * w + 2 * tj + j) * out);
        }
      }
    }
  }
}

// One thread's maps of a block of images.
struct ThreadBuffers {
  std::vector<float> padded, current, next, conv, scratch;
  WinogradScratch winograd;
};

}  // namespace

struct EmbedWorkspace::Impl {
  // The weights as the kernels read them, and the parameters (with their versions) they come from.
  std::vector<at::Tensor> source;
  std::vector<int64_t> versions;
  std::vector<std::vector<float>> transformed;  // per block, Winograd's u (none for a direct conv)
  std::vector<float> taps;                      // the direct conv's weights [channels * 9][width]
  std::vector<at::Tensor> held;                 // contiguous float copies where the parameters are not
  std::vector<const float*> gammas, betas;
  std::vector<ThreadBuffers> threads;
  at::Tensor features;

  bool prepared_for(const std::vector<at::Tensor>& params) const {
    if (source.size() != params.size()) return false;
    for (size_t i = 0; i < params.size(); ++i) {
      if (!source[i].is_same(params[i]) || versions[i] != params[i]._version()) return false;
    }
    return true;
  }

  // The direct conv takes the first conv's weights as they are (transposed into taps); Winograd
  // every other one.
  void prepare(const std::vector<at::Tensor>& params, int64_t depth, int64_t width, int64_t channels, bool direct) {
    if (prepared_for(params)) return;
    source = params;
    versions.clear();
    for (const auto& p : params) versions.push_back(p._version());
    held.clear();
    gammas.clear();
    betas.clear();
    auto values = [&](const at::Tensor& p) {
      held.push_back(p.detach().to(at::kFloat).contiguous());
      return held.back().data_ptr<float>();
    };
    transformed.resize(static_cast<size_t>(depth));
    for (int64_t d = 0; d < depth; ++d) {
      const auto i = static_cast<size_t>(4 * d);
      if (d > 0 || !direct) {
        const int64_t in = d == 0 ? channels : width;
        winograd_weights(values(params[i]), width, in, transformed[static_cast<size_t>(d)]);
      }
      gammas.push_back(values(params[i + 2]));
      betas.push_back(values(params[i + 3]));
    }
    if (direct) {
      const float* weight = values(params[0]);
      taps.resize(static_cast<size_t>(channels * 9 * width));
      for (int64_t o = 0; o < width; ++o) {
        for (int64_t t = 0; t < channels * 9; ++t) {
          taps[static_cast<size_t>(t * width + o)] = weight[o * channels * 9 + t];
        }
      }
    }
  }

  // [n, features_per_image]: the previous output when nothing else holds it any more.
  at::Tensor output(int64_t n, int64_t features_per_image) {
    const bool free = features.defined() && features.use_count() == 1 && features.storage().use_count() == 1;
    if (free) return features.resize_({n, features_per_image});
    features = at::empty({n, features_per_image}, at::TensorOptions().dtype(at::kFloat));
    return features;
  }
};

EmbedWorkspace::EmbedWorkspace() : impl_(std::make_unique<Impl>()) {}
EmbedWorkspace::~EmbedWorkspace() = default;

at::Tensor Network::embed_inference(const at::Tensor& x) const {
  EmbedWorkspace workspace;
  return embed_inference(x, workspace);
}

at::Tensor Network::embed_inference(const at::Tensor& x, EmbedWorkspace& workspace) const {
  at::NoGradGuard no_grad;
  if (kind != NetKind::ConvNet || !x.device().is_cpu() || !device().is_cpu() || x.dim() != 4 ||
      x.size(1) != input.channels || params.front().scalar_type() != at::kFloat) {
    return embed(x);
  }
  const at::Tensor images = x.detach().to(at::kFloat).contiguous();
  const int64_t n = images.size(0), channels = images.size(1), height = images.size(2), wide = images.size(3);
  const int64_t pad = first_padding(input);
  const MapSizes sizes = map_sizes(input, height, wide, depth);
  const auto& hs = sizes.h;
  const auto& ws = sizes.w;
  SUBSET_CHECK(hs.back() >= 1 && ws.back() >= 1, "network",
               "images of " << height << "x" << wide << " are too small for " << depth << " poolings of the convnet");
  const int64_t out_pixels = hs.back() * ws.back(), features_per_image = width * out_pixels;
  EmbedWorkspace::Impl& work = *workspace.impl_;
  at::Tensor features = work.output(n, features_per_image);
  if (n == 0) return features;

  const bool direct = channels <= kDirectChannels;
  SUBSET_CHECK(direct || pad == 1, "network", "the fused convnet needs padding 1 for " << channels << " channels");
  work.prepare(params, depth, width, channels, direct);
  const float* pixels = images.data_ptr<float>();
  float* feature_rows = features.data_ptr<float>();

  // Each thread takes the next block until none is left: on a machine where other processes hold
  // the cores, a thread that is descheduled for a while does not leave half the work waiting.
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int threads = static_cast<int>(std::min<int64_t>(intra_op_threads(), blocks));
  if (work.threads.size() < static_cast<size_t>(threads)) work.threads.resize(static_cast<size_t>(threads));
  std::atomic<int64_t> next_block{0};
  const OmpThreads all_threads(threads);
  at::parallel_for(0, threads, 1, [&](int64_t thread, int64_t) {
    const OmpThreads one(1);  // oneDNN's sgemm on this thread, whatever the caller's count
    ThreadBuffers& buffers = work.threads[static_cast<size_t>(thread)];
    std::vector<float>& padded = buffers.padded;
    std::vector<float>& current = buffers.current;
    std::vector<float>& next = buffers.next;
    std::vector<float>& conv = buffers.conv;
    std::vector<float>& scratch = buffers.scratch;
    scratch.resize(static_cast<size_t>(4 * width));
    for (int64_t block = next_block++; block < blocks; block = next_block++) {
      const int64_t i0 = block * kBlock, nb = std::min(kBlock, n - i0);
      // Where block d writes image b's pooled maps (channels-last, or the features' order at the
      // end), and with which strides.
      int64_t pixel_stride = 0, channel_stride = 0;
      auto output = [&](int64_t d, int64_t b) -> float* {
        if (d + 1 == depth) {
          pixel_stride = 1;
          channel_stride = out_pixels;
          return feature_rows + (i0 + b) * features_per_image;
        }
        pixel_stride = width;
        channel_stride = 1;
        return next.data() + b * hs[d + 1] * ws[d + 1] * width;
      };
      next.resize(static_cast<size_t>(nb * hs[1] * ws[1] * width));
      if (direct) {
        const int64_t hp = hs[0] + 2, wp = ws[0] + 2;
        padded.assign(static_cast<size_t>(channels * hp * wp), 0.0f);  // the border stays zero
        conv.resize(static_cast<size_t>(hs[0] * ws[0] * width));
        for (int64_t b = 0; b < nb; ++b) {
          const float* src = pixels + (i0 + b) * channels * height * wide;
          for (int64_t c = 0; c < channels; ++c) {
            for (int64_t r = 0; r < height; ++r) {
              std::copy(src + (c * height + r) * wide, src + (c * height + r + 1) * wide,
                        padded.data() + (c * hp + r + pad) * wp + pad);
            }
          }
          direct_conv(padded.data(), channels, hs[0], ws[0], work.taps.data(), width, conv.data());
          float* out = output(0, b);
          norm_pool_nhwc(conv.data(), hs[0], ws[0], width, work.gammas[0], work.betas[0], scratch.data(), out, pixel_stride,
                         channel_stride);
        }
      } else {
        // The block's images channels-last, as the Winograd conv reads them.
        current.resize(static_cast<size_t>(nb * height * wide * channels));
        for (int64_t b = 0; b < nb; ++b) {
          for (int64_t c = 0; c < channels; ++c) {
            for (int64_t p = 0; p < height * wide; ++p) {
              current[static_cast<size_t>((b * height * wide + p) * channels + c)] =
                  pixels[((i0 + b) * channels + c) * height * wide + p];
            }
          }
        }
        conv.resize(static_cast<size_t>(nb * hs[0] * ws[0] * width));
        winograd_conv(current.data(), nb, height, wide, channels, work.transformed[0].data(), width, conv.data(),
                      buffers.winograd);
        for (int64_t b = 0; b < nb; ++b) {
          float* out = output(0, b);
          norm_pool_nhwc(conv.data() + b * hs[0] * ws[0] * width, hs[0], ws[0], width, work.gammas[0], work.betas[0],
                         scratch.data(), out, pixel_stride, channel_stride);
        }
      }
      for (int64_t d = 1; d < depth; ++d) {
        const auto dd = static_cast<size_t>(d);
        std::swap(current, next);
        if (d + 1 < depth) next.resize(static_cast<size_t>(nb * hs[dd + 1] * ws[dd + 1] * width));
        const int64_t h = hs[dd], w = ws[dd];
        conv.resize(static_cast<size_t>(nb * h * w * width));
        winograd_conv(current.data(), nb, h, w, width, work.transformed[dd].data(), width, conv.data(), buffers.winograd);
        for (int64_t b = 0; b < nb; ++b) {
          float* out = output(d, b);
          norm_pool_nhwc(conv.data() + b * h * w * width, h, w, width, work.gammas[dd], work.betas[dd], scratch.data(), out,
                         pixel_stride, channel_stride);
        }
      }
    }
  });
  return features;
}

}  // namespace subset::nn::internal
