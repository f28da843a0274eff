// Tests for libsubset/nn/internal/dsa.h: siamese draws shared across a batch and across batches,
// per-image draws otherwise, each family against a hand-computed case, and gradients reaching the
// input images.

// libtorch first, then doctest (support/torch_doctest.h).
#include <ATen/TensorOperators.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/from_blob.h>
#include <ATen/ops/ones.h>
#include "support/torch_doctest.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/nn/internal/dsa.h"
#include "support/error_of.h"

namespace {

using subset::nn::internal::check_dsa_settings;
using subset::nn::internal::dsa_augment;
using subset::nn::internal::DsaSettings;
using subset::test::error_of;

const std::vector<std::string> kFamilies{"color", "crop", "cutout", "flip", "scale", "rotate"};

at::Tensor random_images(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(n * c * h * w));
  subset::Rng rng(seed);
  for (auto& v : values) v = static_cast<float>(rng.normal());
  return at::from_blob(values.data(), {n, c, h, w}, at::TensorOptions().dtype(at::kFloat)).clone();
}

DsaSettings only(const std::string& family) {
  DsaSettings s;
  s.strategy = {family};
  return s;
}

double max_abs(const at::Tensor& t) { return t.abs().max().item<double>(); }

bool all_images_equal(const at::Tensor& y) {
  for (int64_t i = 1; i < y.size(0); ++i) {
    if (!y[i].equal(y[0])) return false;
  }
  return true;
}

// x shifted by (dy, dx) with zero fill: out[i, j] = x[i + dy, j + dx].
at::Tensor shifted(const at::Tensor& x, int64_t dy, int64_t dx) {
  const int64_t h = x.size(2), w = x.size(3);
  const at::Tensor padded = at::constant_pad_nd(x, {w, w, h, h}, 0.0);
  return padded.slice(2, h + dy, 2 * h + dy).slice(3, w + dx, 2 * w + dx);
}

}  // namespace

TEST_CASE("dsa: check_dsa_settings refuses unknown families and an empty strategy") {
  check_dsa_settings(DsaSettings{});
  DsaSettings s;
  s.strategy = {"color", "jitter"};
  const auto e = error_of([&] { check_dsa_settings(s, "--dsa"); });
  CHECK(e.where() == "--dsa");
  CHECK(e.message().find("jitter") != std::string::npos);
  s.strategy.clear();
  error_of([&] { check_dsa_settings(s); });
  error_of([&] { dsa_augment(random_images(2, 1, 8, 8, 1), 0, true, s); });
  error_of([&] { dsa_augment(at::ones({2, 8, 8}), 0, true); });
}

TEST_CASE("dsa: siamese draws are shared by every image and by batches of any size") {
  const at::Tensor one = random_images(1, 3, 12, 12, 2);
  const at::Tensor same = one.expand({6, 3, 12, 12}).contiguous();
  const at::Tensor other = random_images(4, 3, 12, 12, 3);
  std::vector<DsaSettings> settings{DsaSettings{}};
  for (const auto& f : kFamilies) settings.push_back(only(f));
  for (const auto& s : settings) {
    for (uint64_t seed = 0; seed < 8; ++seed) {
      CAPTURE(s.strategy.size());
      CAPTURE(s.strategy.front());
      CAPTURE(seed);
      const at::Tensor y = dsa_augment(same, seed, true, s);
      CHECK(all_images_equal(y));
      // The "real" batch (the image among others) and the "synthetic" one (the image alone).
      const at::Tensor mixed = dsa_augment(at::cat({other, one}), seed, true, s);
      const at::Tensor alone = dsa_augment(one, seed, true, s);
      CHECK(mixed[4].allclose(alone[0], 1e-5, 1e-6));
      CHECK(y[0].allclose(alone[0], 1e-5, 1e-6));
      CHECK(dsa_augment(same, seed, true, s).equal(y));  // reproducible
    }
  }
}

TEST_CASE("dsa: without siamese, every image gets its own draw") {
  const at::Tensor same = random_images(1, 3, 12, 12, 4).expand({16, 3, 12, 12}).contiguous();
  for (const auto& f : kFamilies) {
    CAPTURE(f);
    for (uint64_t seed = 0; seed < 3; ++seed) {
      const at::Tensor y = dsa_augment(same, seed, false, only(f));
      CHECK_FALSE(all_images_equal(y));
      CHECK(dsa_augment(same, seed, false, only(f)).equal(y));
    }
  }
}

TEST_CASE("dsa: flip mirrors the columns where the draw is below the probability") {
  const at::Tensor x = random_images(5, 2, 6, 7, 5);
  DsaSettings s = only("flip");
  s.flip_probability = 1.0;
  CHECK(dsa_augment(x, 3, false, s).equal(x.flip({3})));
  CHECK(dsa_augment(x, 3, true, s).equal(x.flip({3})));
  s.flip_probability = 0.0;
  CHECK(dsa_augment(x, 3, false, s).equal(x));
  s.flip_probability = 0.5;
  int flipped = 0, kept = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const at::Tensor y = dsa_augment(x, seed, false, s);
    for (int64_t i = 0; i < 5; ++i) {
      if (y[i].equal(x[i].flip({2}))) ++flipped;
      else if (y[i].equal(x[i])) ++kept;
    }
  }
  CHECK(flipped + kept == 100);
  CHECK(flipped > 25);
  CHECK(kept > 25);
}

TEST_CASE("dsa: crop is an integer shift of at most round(ratio * size) pixels with zero fill") {
  // Distinct positive values, so that a shift is recognised exactly.
  const at::Tensor x = (at::arange(2 * 16 * 16, at::TensorOptions().dtype(at::kFloat)) + 1).view({1, 2, 16, 16});
  DsaSettings s = only("crop");  // ratio 0.125: shifts in [-2, 2]
  std::set<std::pair<int64_t, int64_t>> seen;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    const at::Tensor y = dsa_augment(x, seed, true, s);
    int matches = 0;
    for (int64_t dy = -2; dy <= 2; ++dy) {
      for (int64_t dx = -2; dx <= 2; ++dx) {
        if (y.equal(shifted(x, dy, dx))) {
          ++matches;
          seen.insert({dy, dx});
        }
      }
    }
    CHECK(matches == 1);
  }
  CHECK(seen.size() >= 10);
  // Per-image shifts: image i alone matches one shift too.
  const at::Tensor batch = x.expand({6, 2, 16, 16}).contiguous();
  const at::Tensor y = dsa_augment(batch, 9, false, s);
  for (int64_t i = 0; i < 6; ++i) {
    int matches = 0;
    for (int64_t dy = -2; dy <= 2; ++dy) {
      for (int64_t dx = -2; dx <= 2; ++dx) matches += y.slice(0, i, i + 1).equal(shifted(x, dy, dx)) ? 1 : 0;
    }
    CHECK(matches == 1);
  }
  s.crop_ratio = 0.0;
  CHECK(dsa_augment(batch, 9, false, s).equal(batch));
}

TEST_CASE("dsa: cutout zeros one square of round(ratio * size), clipped to the image, in every channel") {
  const at::Tensor x = at::ones({4, 3, 8, 8});
  const DsaSettings s = only("cutout");  // 0.5 * 8 = 4
  int full_squares = 0;
  for (uint64_t seed = 0; seed < 10; ++seed) {
    const at::Tensor y = dsa_augment(x, seed, false, s);
    CHECK(((y == 0) | (y == 1)).all().item<bool>());
    for (int64_t i = 0; i < 4; ++i) {
      const at::Tensor zero = y[i][0] == 0;  // [8, 8]
      CHECK(y[i][1].equal(y[i][0]));
      CHECK(y[i][2].equal(y[i][0]));
      const int64_t count = zero.sum().item<int64_t>();
      const int64_t rows = zero.any(1).sum().item<int64_t>(), cols = zero.any(0).sum().item<int64_t>();
      CHECK(count == rows * cols);  // a rectangle
      CHECK(rows <= 4);
      CHECK(cols <= 4);
      CHECK(count >= 4);  // at least half the square's side stays inside, each way
      if (count == 16) ++full_squares;
    }
  }
  CHECK(full_squares > 4);
}

TEST_CASE("dsa: color shifts the mean by the brightness draw and scales deviations by the contrast draw") {
  // One channel: saturation mixes a pixel with the mean of its channels, itself, so it is the
  // identity; contrast keeps the image mean; what remains is out = m + b + c (x - m).
  const at::Tensor x = random_images(8, 1, 10, 10, 6);
  for (const bool siamese : {true, false}) {
    const at::Tensor y = dsa_augment(x, 4, siamese, only("color"));
    const at::Tensor mx = x.mean({1, 2, 3}), my = y.mean({1, 2, 3});
    const at::Tensor shift = my - mx;
    CHECK(max_abs(shift) <= 0.5);
    const at::Tensor dev_x = x - mx.view({-1, 1, 1, 1}), dev_y = y - my.view({-1, 1, 1, 1});
    const at::Tensor c = (dev_y * dev_x).sum({1, 2, 3}) / (dev_x * dev_x).sum({1, 2, 3});
    CHECK((c >= 0.5 - 1e-5).all().item<bool>());
    CHECK((c <= 1.5 + 1e-5).all().item<bool>());
    CHECK(max_abs(dev_y - c.view({-1, 1, 1, 1}) * dev_x) <= 1e-4);
    if (siamese) {
      CHECK(max_abs(shift - shift[0]) <= 1e-5);
    } else {
      CHECK(max_abs(shift - shift[0]) > 1e-3);
    }
  }
  // With brightness 0 the image mean stays; a gray 3-channel image (nothing for saturation to
  // mix) keeps its channels equal.
  DsaSettings s = only("color");
  s.brightness = 0.0;
  const at::Tensor gray = random_images(3, 1, 6, 6, 7).expand({3, 3, 6, 6}).contiguous();
  const at::Tensor y = dsa_augment(gray, 2, false, s);
  CHECK(max_abs(y.mean({1, 2, 3}) - gray.mean({1, 2, 3})) <= 1e-5);
  CHECK(max_abs(y.select(1, 0) - y.select(1, 2)) <= 1e-5);
  // Saturation on a colour image changes the channel spread around the channel mean.
  const at::Tensor colour = random_images(3, 3, 6, 6, 8);
  const at::Tensor z = dsa_augment(colour, 2, false, s);
  const at::Tensor ratio = (z - z.mean({1}, true)).abs().sum({1, 2, 3}) / (colour - colour.mean({1}, true)).abs().sum({1, 2, 3});
  CHECK((ratio <= 2.0 * 1.5 + 1e-4).all().item<bool>());
}

TEST_CASE("dsa: scale and rotate with no range are the identity; the image centre stays put") {
  const at::Tensor x = random_images(3, 2, 9, 9, 9);
  DsaSettings s = only("scale");
  s.scale_ratio = 1.0;
  CHECK(max_abs(dsa_augment(x, 1, false, s) - x) <= 1e-5);
  DsaSettings r = only("rotate");
  r.rotate_degrees = 0.0;
  CHECK(max_abs(dsa_augment(x, 1, false, r) - x) <= 1e-5);
  for (const auto& f : {std::string("scale"), std::string("rotate")}) {
    CAPTURE(f);
    const at::Tensor y = dsa_augment(x, 5, false, only(f));
    CHECK(max_abs(y.select(3, 4).select(2, 4) - x.select(3, 4).select(2, 4)) <= 1e-5);
    CHECK(max_abs(y - x) > 1e-2);
  }
  // A rotation by at most 15 degrees of a constant image keeps the inscribed disc constant.
  const at::Tensor flat = at::ones({2, 1, 9, 9});
  const at::Tensor y = dsa_augment(flat, 3, false, only("rotate"));
  CHECK(max_abs(y.slice(2, 3, 6).slice(3, 3, 6) - 1.0) <= 1e-5);
}

TEST_CASE("dsa: gradients reach the input images for every family") {
  const at::Tensor weights = random_images(4, 3, 10, 10, 10);
  for (const auto& f : kFamilies) {
    for (const bool siamese : {true, false}) {
      CAPTURE(f);
      CAPTURE(siamese);
      const at::Tensor x = random_images(4, 3, 10, 10, 11).requires_grad_(true);
      const at::Tensor y = dsa_augment(x, 6, siamese, only(f));
      REQUIRE(y.requires_grad());
      (y * weights).sum().backward();
      REQUIRE(x.grad().defined());
      CHECK(max_abs(x.grad()) > 0.0);
    }
  }
}
