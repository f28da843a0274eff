#include "libsubset/workflows/nn_entry.h"

#include "libsubset/nn/autoencoder.h"
#include "libsubset/transform/registry.h"

#include "libsubset/workflows/scoring.h"

namespace {

// The torch-free modules (select, transform) reach their libtorch-backed parts through providers
// that this library installs as it is loaded, whether the CLI dlopens it or a program links it.
// One line per provider.
struct InstallProviders {
  InstallProviders() {
    // (providers are installed here)
    subset::transform::set_provider("autoencoder", &subset::nn::make_autoencoder);
    subset::select::set_score_provider(&subset::workflows::proxy_scores);
  }
} install_providers;

}  // namespace

extern "C" const subset::workflows::NnWorkflows* subset_nn_workflows() {
  static const subset::workflows::NnWorkflows table{subset::workflows::kNnWorkflowsAbi, &subset::workflows::run_evaluate,
                                                    &subset::workflows::run_bench, &subset::workflows::run_condense};
  return &table;
}
