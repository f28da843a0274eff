#pragma once
// The workflows that train models (evaluate, bench, condense) live in libsubset_workflows_nn, which links
// libtorch. The `subset` CLI loads that library only when such a command runs (libtorch's start-up
// costs ~0.3 s, which `subset info` should not pay), and reaches the workflows through this table.
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/condense.h"
#include "libsubset/workflows/embed_job.h"
#include "libsubset/workflows/evaluate.h"
#include "libsubset/workflows/al/query.h"
#include "libsubset/workflows/al/simulate.h"
#include "libsubset/workflows/hpo/hpo.h"

namespace subset::workflows {

struct NnWorkflows {
  void (*install_providers)();  // install_nn_providers
  EvaluateResult (*evaluate)(const EvaluateJob&);
  BenchResult (*bench)(const BenchJob&);
  CondenseOutcome (*condense)(const CondenseJob&);
  EmbedOutcome (*embed)(const EmbedJob&);
  al::QueryOutcome (*al_query)(const al::QueryJob&);
  al::SimulateOutcome (*al_simulate)(const al::SimulateJob&);
  hpo::HpoResult (*hpo)(const hpo::HpoJob&);
};

// Installs this library's libtorch-backed providers into the torch-free modules: the autoencoder of
// transform::create/load and the proxy scores of select::compute_scores. Idempotent. Loading or
// linking the library installs nothing by itself (a static initializer would be lost when a linker
// with --as-needed drops a library the program names no symbol of): a program that links
// libsubset_workflows_nn calls this once before it compresses with the autoencoder or selects by
// importance scores; the CLI calls it right after loading the library.
void install_nn_providers();

inline constexpr const char* kNnWorkflowsSymbol = "subset_nn_workflows";
inline constexpr const char* kNnWorkflowsAbiSymbol = "subset_nn_workflows_abi";

}  // namespace subset::workflows

// Exported by libsubset_workflows_nn; C linkage so dlsym finds them by their plain names.
// The library's ABI key (libsubset/workflows/nn_abi.h, generated): a loader compares it with its own
// before it reads the table, whose layout and argument types the key covers.
extern "C" const char* subset_nn_workflows_abi();
extern "C" const subset::workflows::NnWorkflows* subset_nn_workflows();
