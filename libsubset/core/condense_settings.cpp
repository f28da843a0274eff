#include "libsubset/core/condense_settings.h"

#include "libsubset/core/train_settings.h"

namespace subset {

const SettingsSchema<CondenseSettings>& condense_schema() {
  using C = CondenseSettings;
  static const SettingsSchema<C> schema =
      SettingsSchema<C>("condense")
          .field("method", &C::method,
                 "dm: distribution matching (mean embeddings under random networks); dc: gradient matching")
          .one_of({"dm", "dc"})
          .field("ipc", &C::ipc, "Synthetic images per class").at_least(1)
          .field("iterations", &C::iterations, "Iterations (the reference: dm 20000, dc 1000)").at_least(0)
          .field("lr-img", &C::lr_img, "Learning rate of the images (SGD)").above(0).chosen_by("dm 1, dc 0.1")
          .field("momentum-img", &C::momentum_img, "SGD momentum of the images").at_least(0).below(1)
          .field("init", &C::init, "Start from random real images of each class, or noise").one_of({"real", "noise"})
          .field("net", &C::net, "convnet (images) or mlp").one_of({"convnet", "mlp"})
          .field("augment", &C::augment, "Augmentation (DSA) of real and synthetic batches").one_of({"none", "dsa"})
          .chosen_by("dm dsa, dc none")
          .field("batch-real", &C::batch_real, "Real images per class per matching step").at_least(1)
          .field("outer-loop", &C::outer_loop, "Matching steps per iteration").at_least(1).only_for({"dc"})
          .chosen_by("by ipc: 1 -> 1, 10 -> 10, 50 -> 50, else 10")
          .field("inner-loop", &C::inner_loop, "Network epochs between matching steps").at_least(0).only_for({"dc"})
          .chosen_by("by ipc: 1 -> 1, 10 -> 50, 50 -> 10, else 50")
          .field("lr-net", &C::lr_net, "Learning rate of the network (SGD)").above(0).only_for({"dc"})
          .field("batch-train", &C::batch_train, "Batch of the network's training").at_least(1).only_for({"dc"})
          .field("device", &C::device, "cpu, cuda or cuda:N (with a CUDA build of libtorch)")
          .done();
  return schema;
}

CondenseSettings resolve_defaults(const CondenseSettings& settings) {
  CondenseSettings s = settings;
  const bool dm = s.method == "dm";
  if (!s.lr_img) s.lr_img = dm ? 1.0 : 0.1;
  if (!s.augment) s.augment = dm ? "dsa" : "none";
  if (!dm) {
    // The reference's get_loops(ipc).
    int64_t outer = 10, inner = 50;
    if (s.ipc == 1) outer = 1, inner = 1;
    else if (s.ipc == 50) outer = 50, inner = 10;
    if (!s.outer_loop) s.outer_loop = outer;
    if (!s.inner_loop) s.inner_loop = inner;
  }
  return s;
}

void check_condense_settings(const CondenseSettings& settings) {
  condense_schema().check(settings, settings.method);
  check_device_name(settings.device);
}

nlohmann::json to_json(const CondenseSettings& resolved) {
  nlohmann::json j = condense_schema().to_json(resolved, resolved.method);
  j["seed"] = std::to_string(resolved.seed);
  return j;
}

}  // namespace subset
