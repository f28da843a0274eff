// The torch-free half of workflows/condense.h, so that the CLI can name the checkpoint and print
// the outcome without loading libtorch.
#include "libsubset/workflows/condense.h"

#include "libsubset/io/describe_file.h"

namespace subset::workflows {

std::string checkpoint_path(const CondenseJob& job) { return job.output + io::kCondenseCheckpointSuffix; }

nlohmann::json to_json(const CondenseOutcome& o) {
  return {{"settings", o.settings}, {"rows", o.rows}, {"classes", o.classes}, {"iterations_done", o.iterations_done},
          {"resumed_from", o.resumed_from}, {"final_loss", o.final_loss}, {"seconds", o.seconds},
          {"energy", o.energy}, {"output", o.output}};
}

}  // namespace subset::workflows
