#pragma once
// Supervised embeddings (`subset embed --model mlp|convnet`, docs/cli.md): a short training of a
// proxy classifier on the labels, then the activations of the layer before its classifier for
// every training and test row, in row order. This header includes no libtorch.
#include <cstdint>
#include <vector>

#include "libsubset/core/model_state.h"
#include "libsubset/nn/trainer.h"

namespace subset::nn {

struct EmbedResult {
  int64_t dim = 0;            // MLP: settings.hidden; ConvNet: its feature layer (2048 for 28x28)
  std::vector<float> train;   // train.n x dim, row-major: row i is the activation of train row i
  std::vector<float> test;    // test.n x dim (empty when test.n is 0)
  TrainOutcome training;      // test_accuracy only when the test rows have labels, else 0
  // The trained network on the host, arrays named after its layers: mlp w1 [hidden, dim], b1, w2,
  // b2; convnet conv_w<d>, conv_b<d>, norm_w<d>, norm_b<d> for each block d, fc_w, fc_b.
  ModelState model;
};

// Trains settings.model ("mlp" or "convnet") exactly as train_and_test does under schedule
// "epochs", the only schedule taken (same checks, draws and result), then embeds: MLP relu(x W1^T + b1), ConvNet Network::embed (its blocks, before the
// final linear layer). `test` may have no rows, and no labels (then no accuracy is measured).
// Throws subset::Error on what train_and_test refuses, and ParamError for a model without a
// hidden layer ("linear").
EmbedResult train_and_embed(const LabelledView& train, const LabelledView& test, int64_t num_classes,
                            const TrainSettings& settings);

}  // namespace subset::nn
