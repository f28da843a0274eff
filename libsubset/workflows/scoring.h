#pragma once
// The libtorch-backed score provider of the importance coresets (libsubset/select/scores.h): trains
// the proxy of nn/scores.h on the request's points. libsubset_workflows_nn installs it as it loads
// (nn_entry.cpp); a program that links libsubset_workflows_nn has it installed too.
#include <vector>

#include "libsubset/select/scores.h"

namespace subset::workflows {

std::vector<float> proxy_scores(const select::ScoreRequest& request);

}  // namespace subset::workflows
