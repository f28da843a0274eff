#include "libsubset/workflows/nn_entry.h"

extern "C" const subset::workflows::NnWorkflows* subset_nn_workflows() {
  static const subset::workflows::NnWorkflows table{subset::workflows::kNnWorkflowsAbi, &subset::workflows::run_evaluate,
                                                    &subset::workflows::run_bench};
  return &table;
}
