#pragma once
// The settings `al query` and `al simulate` share, each declared once: how a round picks
// (strategy_options_schema) and the proxy's training settings (al_proxy_schema, a part of the
// trainer's train_schema). Torch-free.
#include <cstdint>
#include <optional>

#include "libsubset/core/settings_schema.h"
#include "libsubset/core/train_settings.h"

namespace subset::workflows::al {

struct StrategyOptions {
  int64_t batch = 100;                // rows proposed per round
  std::optional<int64_t> candidates;  // score a subset of this many candidates, chosen by candidates_by:
  std::string candidates_by = "random";  // "random" (seeded) | "neighbours" (of the labelled rows: SEALS)
  int64_t passes = 10;                // bald: MC-dropout passes
  double dropout = 0.5;               // bald: drop probability of each penultimate activation
};

// batch, candidates, candidates-by, passes, dropout.
const SettingsSchema<StrategyOptions>& strategy_options_schema();

// The trainer's parameters the proxy takes (hidden, epochs, lr, device), as train_schema declares
// them, with the epochs default of al_proxy_settings. The proxy is an mlp trained under schedule
// epochs, with the trainer's mini-batch; the others do not apply.
const ParamSchema& al_proxy_schema();
// Sets the given al_proxy_schema parameters (text, by name) on `settings` through train_schema.
void set_proxy_settings(TrainSettings& settings, const std::map<std::string, std::string>& given);

// The proxy's training settings as `al` runs them on `labelled` rows: model mlp, schedule epochs
// and, unset, as many epochs as make about kAlProxySteps optimizer steps (ceil(steps / batches an
// epoch)): the trainer's default of 5 epochs is meant for large sets (5 epochs of 100 labels in
// mini-batches of 256 would be 5 steps), and a fixed step count keeps a round's training time flat
// as the labels grow. labelled = 0: epochs stay unset (validation only).
inline constexpr int64_t kAlProxySteps = 300;
TrainSettings al_proxy_settings(TrainSettings given, int64_t labelled = 0);

}  // namespace subset::workflows::al
