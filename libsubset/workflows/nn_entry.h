#pragma once
// The workflows that train models (evaluate, bench, condense) live in libsubset_workflows_nn, which links
// libtorch. The `subset` CLI loads that library only when such a command runs (libtorch's start-up
// costs ~0.3 s, which `subset info` should not pay), and reaches the workflows through this table.
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/condense.h"
#include "libsubset/workflows/evaluate.h"

namespace subset::workflows {

struct NnWorkflows {
  int abi_version;  // kNnWorkflowsAbi of the library that filled the table
  EvaluateResult (*evaluate)(const EvaluateJob&);
  BenchResult (*bench)(const BenchJob&);
  CondenseOutcome (*condense)(const CondenseJob&);
};

inline constexpr int kNnWorkflowsAbi = 2;
inline constexpr const char* kNnWorkflowsSymbol = "subset_nn_workflows";

}  // namespace subset::workflows

// Exported by libsubset_workflows_nn; C linkage so dlsym finds it by its plain name.
extern "C" const subset::workflows::NnWorkflows* subset_nn_workflows();
