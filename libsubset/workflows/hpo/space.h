#pragma once
// The search space of `subset hpo` (docs/hpo.md, "The space file"): a JSON object whose keys are
// train_schema() parameters of the chosen model and whose values say how each is drawn:
//   {"lr": {"log": [1e-4, 1e-2]}, "hidden": {"choice": [64, 128, 256]}, "epochs": {"int": [3, 10]},
//    "dropout": {"float": [0, 0.5]}}
// and the configurations a search draws from it. Torch-free: the CLI checks a space before it loads
// the nn library.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libsubset/core/train_settings.h"

namespace subset::workflows::hpo {

enum class DimKind { Log, Float, Int, Choice };

struct SpaceDim {
  std::string name;        // a train_schema() parameter
  DimKind kind = DimKind::Choice;
  double low = 0, high = 0;                // log, float, int: the closed range
  std::vector<nlohmann::json> choices;     // choice: the values, each valid for the parameter
  bool integer = false;                    // the parameter takes whole numbers (log draws are rounded)
};

struct Space {
  std::vector<SpaceDim> dims;  // in key order
};

// One configuration: parameter name -> value (numbers or text), keys sorted.
using Config = nlohmann::json;

// The parameters a space may tune for `base` (its model and schedule): every train_schema()
// parameter that applies to them, except model, device and schedule, which a search keeps fixed.
std::vector<std::string> tunable_parameters(const TrainSettings& base);

// Parses and checks a space; every problem is a ParamError naming "space" whose message names the
// key: unknown parameter (listing the valid ones), an entry that is not an object with one of the
// kinds log, float, int, choice, a range that is not two numbers with low < high, log of a
// non-positive bound, int bounds that are not whole numbers, an empty choice, a value outside the
// parameter's domain or of the wrong type.
Space parse_space(const nlohmann::json& json, const TrainSettings& base);

struct Sampled {
  std::vector<Config> configs;
  std::vector<std::string> notes;  // duplicates dropped, grid truncated
};

// `trials` configurations drawn at random: trial i's from Rng(seed).fork(i), each dimension in key
// order (log: log-uniform; float: uniform; int: uniform over the whole numbers; choice: uniform);
// a configuration drawn twice is kept once (noted).
Sampled sample_random(const Space& space, int64_t trials, uint64_t seed);
// The cartesian product of the choices and int ranges (the last key varying fastest), the first
// `trials` of it (noted when cut); log and float dimensions are refused (ParamError "search").
Sampled sample_grid(const Space& space, int64_t trials);

// The base settings with a configuration's values set (each checked by train_schema()).
TrainSettings apply_config(const TrainSettings& base, const Config& config);
// A short stable hash of a configuration (FNV-1a 64 of its compact JSON), 16 hex digits.
std::string config_hash(const Config& config);
// "lr=0.001 hidden=128".
std::string config_text(const Config& config);

}  // namespace subset::workflows::hpo
