#pragma once
// Dataset condensation (docs/methods/condensation.md): synthesise `ipc` labelled images per class
// that train a network nearly as well as the full data. Two methods, as the reference
// implementations of Zhao & Bilen define them:
//   dm  distribution matching: each iteration draws a fresh network and moves the synthetic images
//       so that, class by class, their mean embedding matches that of a real batch;
//   dc  gradient matching: the synthetic images are moved so that the network's layer-wise
//       gradients on them match those on real batches, while the network trains on them.
// This header includes no libtorch. The synthetic images live in the store's feature space; the
// networks see them standardised per channel, like the reference's normalised tensors.
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libsubset/core/condense_settings.h"

namespace subset::nn {

// The settings (CondenseSettings, condense_schema, resolve_defaults) are declared without libtorch
// in libsubset/core/condense_settings.h.
using subset::CondenseSettings;

// The labelled training rows to condense.
struct CondenseData {
  const float* features = nullptr;      // n x dim, row-major
  const int64_t* labels = nullptr;      // n, in [0, classes)
  int64_t n = 0;
  int64_t dim = 0;
  int64_t classes = 0;
  std::vector<int64_t> image_shape;     // [C, H, W]; required by the ConvNet, optional for the MLP
};

// Where a condensation stands: everything needed to continue it exactly.
struct CondenseState {
  int64_t iterations_done = 0;
  std::vector<float> images;     // [classes * ipc, dim], class-major, in the store's feature space
  std::vector<int64_t> labels;   // [classes * ipc]: 0 x ipc, 1 x ipc, ...
  std::vector<float> momentum;   // the images' SGD momentum buffer, same size as images
  double last_loss = 0;          // matching loss of the last iteration (sum over classes; DC: mean
                                 // over outer steps)
};

struct CondenseHooks {
  // After each iteration with (iterations done, of total, its loss); may throw to cancel.
  std::function<void(int64_t done, int64_t total, double loss)> on_iteration;
  // Every `checkpoint_every` iterations (0: never), with the state to save.
  int64_t checkpoint_every = 0;
  std::function<void(const CondenseState&)> on_checkpoint;
};

// Per-channel mean and standard deviation of the rows (one channel when there is no image shape).
struct ChannelStatistics {
  std::vector<float> mean;
  std::vector<float> stddev;  // never 0: a constant channel gets 1
};
ChannelStatistics channel_statistics(const float* features, int64_t n, int64_t dim, int64_t channels);

// Checks settings (check_condense_settings) and then against the data: every class has a row;
// with init real, ipc <= the smallest class; the ConvNet and DSA need an image shape large enough
// for the poolings. Throws ParamError naming the parameter, or Error naming `where`.
void check_condense(const CondenseSettings& settings, const CondenseData& data, const std::string& where);

// The starting point: iteration 0, images per `init`, drawn from the seed.
CondenseState initial_state(const CondenseSettings& settings, const CondenseData& data);

// Runs iterations state.iterations_done + 1 .. settings.iterations. Iteration i draws its networks,
// batches and augmentations from (seed, i) alone, so a run resumed from a checkpoint ends with the
// same images as one that never stopped. Assumes check_condense passed.
CondenseState condense(const CondenseSettings& settings, const CondenseData& data, CondenseState state,
                       const CondenseHooks& hooks = {});

}  // namespace subset::nn
