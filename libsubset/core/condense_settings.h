#pragma once
// The settings of dataset condensation (libsubset/nn/condense.h) and their one declaration
// (condense_schema). They live here, without libtorch, so that the workflows and the CLI configure
// condensation without including nn.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "libsubset/core/settings_schema.h"

namespace subset {

struct CondenseSettings {
  std::string method = "dm";   // "dm" | "dc"
  int64_t ipc = 10;            // synthetic images per class
  int64_t iterations = 200;    // outer iterations (the reference: DM 20000, DC 1000)
  std::optional<double> lr_img;  // SGD on the images; unset: dm 1, dc 0.1
  double momentum_img = 0.5;
  std::string init = "real";   // "real": random real images of each class; "noise": N(0, 1) per
                               // standardised pixel
  std::string net = "convnet";  // "convnet" | "mlp"
  std::optional<std::string> augment;  // "none" | "dsa"; unset: dm dsa, dc none
  int64_t batch_real = 256;    // real images per class per matching step
  // DC only. Unset: as the reference sets them by ipc (1 -> 1/1, 10 -> 10/50, 50 -> 50/10, else 10/50).
  std::optional<int64_t> outer_loop;
  std::optional<int64_t> inner_loop;
  double lr_net = 0.01;        // DC: SGD on the network between outer steps
  int64_t batch_train = 256;   // DC: batch of that training
  uint64_t seed = 0;
  std::string device = "cpu";
};

// Every tunable but the seed, by the names of its CLI options (method, ipc, iterations, lr-img,
// momentum-img, init, net, augment, batch-real, outer-loop, inner-loop, lr-net, batch-train,
// device); the dc-only ones say so.
const SettingsSchema<CondenseSettings>& condense_schema();

// The settings with every default resolved (lr-img, augment, loops), as recorded in outputs and
// compared on --resume.
CondenseSettings resolve_defaults(const CondenseSettings& settings);
// Checks every value against its domain and that those set apply to the method; throws ParamError.
void check_condense_settings(const CondenseSettings& settings);
// The resolved settings as outputs record them: the parameters of the method under their names,
// and the seed as decimal text (JSON numbers lose bits above 2^53).
nlohmann::json to_json(const CondenseSettings& resolved);

}  // namespace subset
