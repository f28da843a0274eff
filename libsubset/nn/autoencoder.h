#pragma once
// The autoencoder transform (docs/methods/compression.md, "autoencoder"): an undercomplete MLP
//   encoder  D -> e1 -> ... -> K     decoder  K -> d1 -> ... -> D
// with ReLU after every hidden layer and none on the code or the output, trained to reconstruct
// its input (mean squared error, Adam, mini-batches in a fresh Fisher-Yates order each epoch from
// Rng(seed)). Weights start like torch.nn.Linear's, U(+-1/sqrt(fan_in)), drawn from Rng(seed).
// The encoder is the transform; the decoder reconstructs. Saved arrays: encoder_I_weight [out, in],
// encoder_I_bias [out], decoder_I_weight, decoder_I_bias (I = 0, 1, ... from the input side), so a
// model file needs nothing else to be applied. Training reads all rows into memory.
//
// Its parameters are declared in libsubset/transform/registry.cpp (the CLI lists them without
// loading libtorch); libsubset_workflows_nn installs make_autoencoder as the provider.
// This header includes no libtorch.
#include <memory>
#include <string>
#include <vector>

#include "libsubset/core/params.h"
#include "libsubset/transform/transform.h"

namespace subset::nn {

std::unique_ptr<transform::Transform> make_autoencoder(const ParamMap& params);

// "512,256" -> {512, 256}; "" -> {}. Throws Error naming `option` for anything but positive integers.
std::vector<int64_t> parse_widths(const std::string& text, const std::string& option);

}  // namespace subset::nn
