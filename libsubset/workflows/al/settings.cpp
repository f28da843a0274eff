#include "libsubset/workflows/al/settings.h"

#include <string>

namespace subset::workflows::al {

const SettingsSchema<StrategyOptions>& strategy_options_schema() {
  static const SettingsSchema<StrategyOptions> schema =
      SettingsSchema<StrategyOptions>("al")
          .field("batch", &StrategyOptions::batch, "Pool rows proposed per round")
          .at_least(1)
          .field("candidates", &StrategyOptions::candidates,
                 "Score a seeded random subset of this many candidate rows (bounds time and memory on a large pool)")
          .at_least(1)
          .chosen_by("all candidates")
          .field("candidates-by", &StrategyOptions::candidates_by,
                 "How --candidates picks them: a seeded random subset, or the union of each labelled row's "
                 "ceil(N / labelled) nearest unlabelled rows in the features (SEALS)")
          .one_of({"random", "neighbours"})
          .field("passes", &StrategyOptions::passes, "MC-dropout passes of bald")
          .at_least(2)
          .field("dropout", &StrategyOptions::dropout,
                 "bald: probability of dropping each penultimate activation in a pass (at scoring only)")
          .above(0)
          .below(1)
          .done();
  return schema;
}

const ParamSchema& al_proxy_schema() {
  static const ParamSchema schema = [] {
    ParamSchema s("al proxy");
    for (const char* name : {"hidden", "epochs", "lr", "device"}) {
      ParamSpec spec = *train_schema().schema().find(name);
      spec.methods.clear();  // the proxy is always an mlp
      if (spec.name == "epochs") spec.default_note = "about " + std::to_string(kAlProxySteps) + " optimizer steps (schedule epochs)";
      s.add(spec);
    }
    return s;
  }();
  return schema;
}

void set_proxy_settings(TrainSettings& settings, const std::map<std::string, std::string>& given) {
  for (const auto& [name, text] : given) {
    SUBSET_CHECK_PARAM(al_proxy_schema().find(name), name, "does not apply to the active-learning proxy");
    train_schema().set(settings, name, text);
  }
}

TrainSettings al_proxy_settings(TrainSettings given, int64_t labelled) {
  given.model = "mlp";
  given.schedule = "epochs";
  if (!given.epochs && labelled > 0 && given.batch > 0) {
    const int64_t batches = (labelled + given.batch - 1) / given.batch;
    given.epochs = (kAlProxySteps + batches - 1) / batches;
  }
  return given;
}

}  // namespace subset::workflows::al
