#pragma once
// Importance and uncertainty scores of training points under a proxy classifier (the trainer's
// models and loop, trainer.h), behind the importance coresets of libsubset/select (scores.h there
// states each kind and its direction; workflows installs this as select's score provider).
// Every score is "higher = harder / more uncertain". This header includes no libtorch.
#include <cstdint>
#include <functional>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/nn/trainer.h"

namespace subset::nn {

enum class ScoreKind { Loss, El2n, Grand, Forgetting, Entropy, Margin, LeastConfidence };

struct ScoreSettings {
  // The proxy: model, hidden, epochs (>= 1), batch, learning_rate, device; repeat r is seeded with
  // seed + r exactly as train_and_test seeds a training. on_epoch is not called.
  // Schedule epochs: scores are read off the whole set, with no split to stop on (under the
  // default early-stop, unset epochs would resolve to its cap).
  TrainSettings training = [] {
    TrainSettings t;
    t.schedule = "epochs";
    return t;
  }();
  int64_t repeats = 1;  // >= 1; the scores are the mean over the repeats
  // Called after each proxy epoch and each scoring pass with (units done, units in all): per repeat
  // `epochs` units of training and one of scoring (none for forgetting). May throw to cancel.
  std::function<void(int64_t, int64_t)> progress;
  // On several ranks (share.distributed()): `data` holds this rank's share of the rows, the proxy
  // trains data-parallel on all of them (internal/train_loop.h: the one-process batches, gradients
  // summed over the ranks in rank order) and each rank scores its own. Every rank returns the
  // scores of all share.total_rows rows. The same scores as one process within rounding, which
  // training carries forward (docs/scale.md, "On several processes").
  RowShare share;
};

// One score per row of `data` (its weights are ignored), computed as follows, per repeat:
//  - the proxy is trained for `epochs` epochs on all rows (Adam, mini-batches, as train_and_test);
//  - forgetting: while training, each row's prediction in the step that visits it (before that
//    step's update, as Toneva et al. 2019) is right or wrong; the score is the number of times a
//    row was right at one epoch and wrong at the next; a row never right in any epoch scores
//    `epochs` (more than the floor(epochs / 2) events any learned row can have);
//  - every other kind: one pass of the trained proxy over all rows (no training mode: the models
//    have none), and the per-row formula of internal/scores.h.
// Throws subset::Error on invalid settings or data (labels outside [0, num_classes), n = 0).
// Data-parallel: every rank calls it (a collective), and gets all rows' scores.
std::vector<float> importance_scores(const LabelledView& data, int64_t num_classes, ScoreKind kind,
                                     const ScoreSettings& settings);

}  // namespace subset::nn
