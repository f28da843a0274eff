#include "libsubset/nn/internal/dsa.h"

// Per-operator headers rather than <torch/torch.h> or <ATen/ATen.h>: a few seconds less per file.
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/TensorOperators.h>
#include <ATen/core/Generator.h>
#include <ATen/ops/affine_grid_generator.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/grid_sampler.h>
#include <ATen/ops/index.h>
#include <ATen/ops/rand.h>
#include <ATen/ops/where.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "libsubset/core/error.h"

namespace subset::nn::internal {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The random draws of one call. Every draw comes from one local CPU generator seeded by the call's
// seed (the global libtorch generator is never touched), `count` values per quantity: 1 when
// siamese (then broadcast over the batch, so the draws do not depend on the batch size), N when
// every image gets its own.
class Draws {
 public:
  Draws(uint64_t seed, int64_t count) : gen_(at::make_generator<at::CPUGeneratorImpl>(seed)), count_(count) {}

  // U(0, 1) doubles.
  std::vector<double> uniform(int64_t count) {
    const at::Tensor u = at::rand({count}, gen_, at::TensorOptions().dtype(at::kDouble));
    const double* p = u.data_ptr<double>();
    return std::vector<double>(p, p + count);
  }
  std::vector<double> uniform() { return uniform(count_); }
  // Integers uniform in [low, high).
  std::vector<int64_t> integers(int64_t low, int64_t high) {
    std::vector<int64_t> out;
    for (double u : uniform()) {
      const auto k = static_cast<int64_t>(std::floor(u * static_cast<double>(high - low)));
      out.push_back(low + std::min(k, high - low - 1));
    }
    return out;
  }

 private:
  at::Generator gen_;
  int64_t count_;
};

// `values` as a tensor of `shape` (its first extent values.size()) on x's device in x's dtype; a
// copy, so `values` may go.
at::Tensor as_tensor(const std::vector<double>& values, at::IntArrayRef shape, const at::Tensor& like) {
  return at::from_blob(const_cast<double*>(values.data()), shape, at::TensorOptions().dtype(at::kDouble))
      .to(like.device(), like.scalar_type(), /*non_blocking=*/false, /*copy=*/true);
}

at::Tensor long_tensor(const std::vector<int64_t>& values, at::IntArrayRef shape, const at::Tensor& like) {
  return at::from_blob(const_cast<int64_t*>(values.data()), shape, at::TensorOptions().dtype(at::kLong))
      .to(like.device(), at::kLong, /*non_blocking=*/false, /*copy=*/true);
}

// theta [count, 2, 3] row-major per draw, applied by bilinear sampling with zero padding. The
// reference calls affine_grid and grid_sample without align_corners, which PyTorch >= 1.3 reads as
// false; so do we.
at::Tensor affine(const at::Tensor& x, const std::vector<double>& theta) {
  const int64_t count = static_cast<int64_t>(theta.size() / 6);
  at::Tensor t = as_tensor(theta, {count, 2, 3}, x);
  if (count != x.size(0)) t = t.expand({x.size(0), 2, 3});
  const at::Tensor grid = at::affine_grid_generator(t, x.sizes(), /*align_corners=*/false);
  return at::grid_sampler(x, grid, /*interpolation_mode=bilinear*/ 0, /*padding_mode=zeros*/ 0,
                          /*align_corners=*/false);
}

int64_t rounded(double size, double ratio) { return static_cast<int64_t>(size * ratio + 0.5); }

at::Tensor scale(const at::Tensor& x, Draws& draws, const DsaSettings& s) {
  const double lo = 1.0 / s.scale_ratio, span = s.scale_ratio - lo;
  const std::vector<double> ux = draws.uniform(), uy = draws.uniform();
  std::vector<double> theta;
  for (size_t i = 0; i < ux.size(); ++i) {
    theta.insert(theta.end(), {lo + span * ux[i], 0.0, 0.0, 0.0, lo + span * uy[i], 0.0});
  }
  return affine(x, theta);
}

at::Tensor rotate(const at::Tensor& x, Draws& draws, const DsaSettings& s) {
  std::vector<double> theta;
  for (double u : draws.uniform()) {
    const double a = (u - 0.5) * 2.0 * s.rotate_degrees / 180.0 * kPi;
    theta.insert(theta.end(), {std::cos(a), -std::sin(a), 0.0, std::sin(a), std::cos(a), 0.0});
  }
  return affine(x, theta);
}

at::Tensor flip(const at::Tensor& x, Draws& draws, const DsaSettings& s) {
  const std::vector<double> u = draws.uniform();
  const at::Tensor r = as_tensor(u, {static_cast<int64_t>(u.size()), 1, 1, 1}, x);
  return at::where(r < s.flip_probability, x.flip({3}), x);
}

// Brightness, saturation and contrast, in this order (the reference's 'color').
at::Tensor color(const at::Tensor& x, Draws& draws, const DsaSettings& s) {
  auto factor = [&](const std::vector<double>& u) {
    return as_tensor(u, {static_cast<int64_t>(u.size()), 1, 1, 1}, x);
  };
  at::Tensor y = x + (factor(draws.uniform()) - 0.5) * s.brightness;
  const at::Tensor channel_mean = y.mean({1}, /*keepdim=*/true);
  y = (y - channel_mean) * (factor(draws.uniform()) * s.saturation) + channel_mean;
  const at::Tensor image_mean = y.mean({1, 2, 3}, /*keepdim=*/true);
  return (y - image_mean) * (factor(draws.uniform()) + s.contrast) + image_mean;
}

// Integer translation by (ty, tx) in [-round(ratio H), +] x [-round(ratio W), +], zero filled:
// out[i, j] = x[i + ty, j + tx] where inside the image, else 0.
at::Tensor crop(const at::Tensor& x, Draws& draws, const DsaSettings& s) {
  const int64_t n = x.size(0), h = x.size(2), w = x.size(3);
  const int64_t sh = rounded(static_cast<double>(h), s.crop_ratio), sw = rounded(static_cast<double>(w), s.crop_ratio);
  const std::vector<int64_t> ty = draws.integers(-sh, sh + 1), tx = draws.integers(-sw, sw + 1);
  const auto k = static_cast<int64_t>(ty.size());
  const at::Tensor padded = at::constant_pad_nd(x, {sw, sw, sh, sh}, 0.0);
  const auto longs = at::TensorOptions().dtype(at::kLong).device(x.device());
  const at::Tensor rows = at::arange(h, longs).view({1, h, 1}) + long_tensor(ty, {k, 1, 1}, x) + sh;
  const at::Tensor cols = at::arange(w, longs).view({1, 1, w}) + long_tensor(tx, {k, 1, 1}, x) + sw;
  const at::Tensor batch = at::arange(n, longs).view({n, 1, 1});
  // [N, H, W, C] by advanced indexing of [N, H', W', C], back to [N, C, H, W].
  return at::index(padded.permute({0, 2, 3, 1}), {batch, rows, cols}).permute({0, 3, 1, 2});
}

// A zeroed square of round(ratio H) x round(ratio W) centred at a random offset (the reference's
// ranges: offsets in [0, H + 1 - size % 2)), clipped to the image.
at::Tensor cutout(const at::Tensor& x, Draws& draws, const DsaSettings& s) {
  const int64_t h = x.size(2), w = x.size(3);
  const int64_t ch = rounded(static_cast<double>(h), s.cutout_ratio), cw = rounded(static_cast<double>(w), s.cutout_ratio);
  const std::vector<int64_t> oy = draws.integers(0, h + 1 - ch % 2), ox = draws.integers(0, w + 1 - cw % 2);
  const auto k = static_cast<int64_t>(oy.size());
  const auto longs = at::TensorOptions().dtype(at::kLong).device(x.device());
  const at::Tensor top = long_tensor(oy, {k, 1}, x) - ch / 2, left = long_tensor(ox, {k, 1}, x) - cw / 2;
  const at::Tensor r = at::arange(h, longs).view({1, h}), c = at::arange(w, longs).view({1, w});
  const at::Tensor in_rows = (r >= top).logical_and(r < top + ch), in_cols = (c >= left).logical_and(c < left + cw);
  // [k, H, W]: 1 outside the square, 0 inside.
  const at::Tensor inside = in_rows.unsqueeze(2).logical_and(in_cols.unsqueeze(1));
  const at::Tensor mask = inside.logical_not().to(x.scalar_type());
  return x * mask.unsqueeze(1);
}

}  // namespace

void check_dsa_settings(const DsaSettings& settings, const std::string& where) {
  SUBSET_CHECK(!settings.strategy.empty(), where, "empty DSA strategy");
  for (const auto& f : settings.strategy) {
    SUBSET_CHECK(f == "color" || f == "crop" || f == "cutout" || f == "flip" || f == "scale" || f == "rotate", where,
                 "unknown DSA family '" << f << "' (expected color, crop, cutout, flip, scale or rotate)");
  }
  SUBSET_CHECK(settings.scale_ratio > 0, where, "DSA scale ratio must be positive (got " << settings.scale_ratio << ")");
  SUBSET_CHECK(settings.crop_ratio >= 0 && settings.crop_ratio < 1, where,
               "DSA crop ratio must be in [0, 1) (got " << settings.crop_ratio << ")");
  SUBSET_CHECK(settings.cutout_ratio >= 0 && settings.cutout_ratio <= 1, where,
               "DSA cutout ratio must be in [0, 1] (got " << settings.cutout_ratio << ")");
}

at::Tensor dsa_augment(const at::Tensor& x, uint64_t seed, bool siamese, const DsaSettings& settings) {
  check_dsa_settings(settings);
  SUBSET_CHECK(x.dim() == 4, "augment", "DSA needs images [N, C, H, W] (got " << x.dim() << " dimensions)");
  if (x.size(0) == 0) return x;
  Draws draws(seed, siamese ? 1 : x.size(0));
  // One family for the whole call, siamese or not (the reference's 'S' mode).
  const auto families = static_cast<int64_t>(settings.strategy.size());
  const double u = draws.uniform(1)[0];
  const std::string& family =
      settings.strategy[static_cast<size_t>(std::min(families - 1, static_cast<int64_t>(u * families)))];
  at::Tensor y;
  if (family == "color") y = color(x, draws, settings);
  else if (family == "crop") y = crop(x, draws, settings);
  else if (family == "cutout") y = cutout(x, draws, settings);
  else if (family == "flip") y = flip(x, draws, settings);
  else if (family == "scale") y = scale(x, draws, settings);
  else y = rotate(x, draws, settings);
  return y.contiguous();
}

}  // namespace subset::nn::internal
