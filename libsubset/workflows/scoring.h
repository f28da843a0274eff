#pragma once
// The libtorch-backed score provider of the importance coresets (libsubset/select/scores.h): trains
// the proxy of nn/scores.h on the request's points. install_nn_providers() (nn_entry.h) installs it.
#include <vector>

#include "libsubset/select/scores.h"

namespace subset::workflows {

std::vector<float> proxy_scores(const select::ScoreRequest& request);

}  // namespace subset::workflows
