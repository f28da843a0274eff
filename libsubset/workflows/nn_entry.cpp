#include "libsubset/workflows/nn_entry.h"

#include "libsubset/nn/autoencoder.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/nn_abi.h"
#include "libsubset/workflows/scoring.h"

namespace subset::workflows {

// One line per provider. Each is an atomic store of the same pointer, so calling this again, or from
// two threads, changes nothing.
void install_nn_providers() {
  transform::set_provider("autoencoder", &nn::make_autoencoder);
  select::set_score_provider(&proxy_scores);
}

}  // namespace subset::workflows

extern "C" const char* subset_nn_workflows_abi() { return subset::workflows::kNnWorkflowsAbiKey; }

extern "C" const subset::workflows::NnWorkflows* subset_nn_workflows() {
  static const subset::workflows::NnWorkflows table{
      &subset::workflows::install_nn_providers, &subset::workflows::run_evaluate, &subset::workflows::run_bench,
      &subset::workflows::run_condense, &subset::workflows::run_embed,
      &subset::workflows::al::run_al_query, &subset::workflows::al::run_al_simulate,
      &subset::workflows::hpo::run_hpo};
  return &table;
}
