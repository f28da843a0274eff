#pragma once
// Differentiable siamese augmentation (DSA, Zhao & Bilen 2021), as the reference applies it: each
// call picks one family at random from the strategy (color = brightness, saturation, contrast;
// crop; cutout; flip; scale; rotate) and applies it with random strength. Everything is built from
// differentiable tensor ops, so gradients reach the input images.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace subset::nn::internal {

struct DsaSettings {
  std::vector<std::string> strategy{"color", "crop", "cutout", "flip", "scale", "rotate"};
  double flip_probability = 0.5;
  double scale_ratio = 1.2;       // scale factors drawn from U(1/ratio, ratio), per axis
  double rotate_degrees = 15.0;   // angle drawn from U(-deg, deg)
  double crop_ratio = 0.125;      // translation of up to ratio * size pixels, zero filled
  double cutout_ratio = 0.5;      // a zeroed square of ratio * size
  double brightness = 1.0;        // x + U(-0.5, 0.5) * brightness
  double saturation = 2.0;        // channel-mean mix, factor U(0, saturation)
  double contrast = 0.5;          // image-mean mix, factor U(contrast, 1 + contrast)
};

// Families other than those in `strategy`, or an empty strategy: subset::Error naming `where`.
void check_dsa_settings(const DsaSettings& settings, const std::string& where = "augment");

// Augments x [N, C, H, W]. The same `seed` gives the same draws; with `siamese`, one draw is shared
// by every image of the batch, so calls on a real and a synthetic batch with one seed transform
// both identically (what the matching losses need). Without it, every image gets its own draw (the
// evaluation protocol's training).
at::Tensor dsa_augment(const at::Tensor& x, uint64_t seed, bool siamese, const DsaSettings& settings = {});

}  // namespace subset::nn::internal
