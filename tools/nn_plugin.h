#pragma once
// Loads libsubset_workflows_nn (and with it libtorch) on first use; see workflows/nn_entry.h.
#include "libsubset/workflows/nn_entry.h"

namespace subset::cli {

// Throws subset::Error when this build has no libtorch or the library cannot be loaded.
const workflows::NnWorkflows& nn_workflows();

}  // namespace subset::cli
