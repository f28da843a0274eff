// The search space of `subset hpo` (workflows/hpo/space.h): the format, one clear error per bad
// entry, seeded random draws and the grid.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/core/rng.h"
#include "libsubset/workflows/hpo/hpo.h"
#include "libsubset/workflows/hpo/space.h"
#include "support/error_of.h"

using nlohmann::json;
using subset::TrainSettings;
using subset::test::error_of;
namespace hpo = subset::workflows::hpo;

namespace {

hpo::Space parse(const std::string& text, const std::string& model = "mlp") {
  TrainSettings base;
  base.model = model;
  return hpo::parse_space(json::parse(text), base);
}

// The message of the error a space raises; it must name "space" and the entry.
std::string space_error(const std::string& text, const std::string& model = "mlp") {
  const subset::Error e = error_of([&] { parse(text, model); });
  CHECK(e.where() == "space");
  return e.message();
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a space parses into its dimensions, in key order") {
  const hpo::Space s = parse(R"({"lr": {"log": [1e-4, 1e-2]}, "hidden": {"choice": [64, 128]},
                                 "epochs": {"int": [3, 10]}, "dropout": {"float": [0, 0.5]}})");
  REQUIRE(s.dims.size() == 4);
  CHECK(s.dims[0].name == "dropout");
  CHECK(s.dims[0].kind == hpo::DimKind::Float);
  CHECK(s.dims[1].name == "epochs");
  CHECK(s.dims[1].kind == hpo::DimKind::Int);
  CHECK(s.dims[1].integer);
  CHECK(s.dims[2].choices.size() == 2);
  CHECK(s.dims[3].kind == hpo::DimKind::Log);
  CHECK(s.dims[3].low == doctest::Approx(1e-4));
}

TEST_CASE("every bad space entry is one error naming the entry") {
  CHECK(has(space_error(R"({"bogus": {"choice": [1]}})"), "space entry 'bogus': not a parameter of model mlp"));
  CHECK(has(space_error(R"({"bogus": {"choice": [1]}})"), "valid: hidden, depth"));
  // A parameter of another model is refused for this one.
  CHECK(has(space_error(R"({"hidden": {"choice": [8]}})", "linear"), "'hidden': not a parameter of model linear"));
  CHECK(has(space_error(R"({"model": {"choice": ["mlp"]}})"), "'model': not a parameter"));
  CHECK(has(space_error(R"({"lr": {"gauss": [1, 2]}})"), "unknown kind \"gauss\""));
  CHECK(has(space_error(R"({"lr": [1, 2]})"), "expected an object with one of log, float, int, choice"));
  CHECK(has(space_error(R"({"lr": {"log": [1e-3], "choice": [1]}})"), "expected an object"));
  CHECK(has(space_error(R"({"lr": {"log": [1e-2, 1e-3]}})"), "low < high"));
  CHECK(has(space_error(R"({"lr": {"float": [0.1, 0.1]}})"), "low < high"));
  CHECK(has(space_error(R"({"lr": {"log": [0, 1e-3]}})"), "\"log\" needs positive bounds"));
  CHECK(has(space_error(R"({"weight-decay": {"log": [-1, 1]}})"), "positive bounds"));
  CHECK(has(space_error(R"({"lr": {"log": ["a", 1]}})"), "takes [low, high], two numbers"));
  CHECK(has(space_error(R"({"lr": {"log": [1, 2, 3]}})"), "two numbers"));
  CHECK(has(space_error(R"({"hidden": {"choice": []}})"), "non-empty list"));
  CHECK(has(space_error(R"({"hidden": {"choice": 64}})"), "non-empty list"));
  CHECK(has(space_error(R"({"hidden": {"choice": [0]}})"), "'hidden': value 0"));
  CHECK(has(space_error(R"({"hidden": {"choice": ["wide"]}})"), "'hidden': value \"wide\""));
  CHECK(has(space_error(R"({"hidden": {"choice": [[1]]}})"), "not a number or text"));
  CHECK(has(space_error(R"({"dropout": {"float": [0, 1]}})"), "'dropout': value 1"));
  CHECK(has(space_error(R"({"epochs": {"int": [1.5, 4]}})"), "whole-number bounds"));
  CHECK(has(space_error(R"({"hidden": {"float": [8, 64]}})"), "takes whole numbers"));
  CHECK(has(space_error(R"({"lr": {"int": [1, 4]}})"), "is a real number"));
  CHECK(has(space_error("[1, 2]"), "JSON object"));
  CHECK(has(space_error("{}"), "the space is empty"));
}

TEST_CASE("schedule parameters are tunable under their own schedule only") {
  TrainSettings steps;
  steps.schedule = "steps";
  const auto names = hpo::tunable_parameters(steps);
  CHECK(std::count(names.begin(), names.end(), "steps") == 1);
  CHECK(std::count(names.begin(), names.end(), "epochs") == 0);
  CHECK(std::count(names.begin(), names.end(), "patience") == 0);
  const auto early = hpo::tunable_parameters(TrainSettings{});
  CHECK(std::count(early.begin(), early.end(), "patience") == 1);
  CHECK(std::count(early.begin(), early.end(), "steps") == 0);
}

TEST_CASE("random draws: trial i comes from Rng(seed).fork(i), every value in its range") {
  const hpo::Space s = parse(R"({"lr": {"log": [1e-4, 1e-2]}, "hidden": {"log": [8, 512]},
                                 "epochs": {"int": [3, 5]}, "batch": {"choice": [32, 64]}})");
  const hpo::Sampled a = hpo::sample_random(s, 30, 7);
  const hpo::Sampled b = hpo::sample_random(s, 10, 7);
  REQUIRE(a.configs.size() == 30);
  for (size_t i = 0; i < b.configs.size(); ++i) CHECK(a.configs[i] == b.configs[i]);  // independent of --trials
  CHECK(hpo::sample_random(s, 30, 8).configs != a.configs);
  std::set<int64_t> epochs;
  for (const auto& c : a.configs) {
    CHECK(c["lr"].get<double>() >= 1e-4);
    CHECK(c["lr"].get<double>() <= 1e-2);
    CHECK(c["hidden"].is_number_integer());
    CHECK(c["hidden"].get<int64_t>() >= 8);
    CHECK(c["hidden"].get<int64_t>() <= 512);
    epochs.insert(c["epochs"].get<int64_t>());
    CHECK((c["batch"] == 32 || c["batch"] == 64));
  }
  CHECK(epochs == std::set<int64_t>{3, 4, 5});
  // The first draw of trial 0 by hand: batch is the first key.
  subset::Rng rng = subset::Rng(7).fork(0);
  CHECK(a.configs[0]["batch"] == (rng.uniform_index(2) == 0 ? 32 : 64));
}

TEST_CASE("random draws that repeat a configuration are kept once, with a note") {
  const hpo::Sampled s = hpo::sample_random(parse(R"({"hidden": {"choice": [8, 16]}})"), 20, 1);
  CHECK(s.configs.size() == 2);
  REQUIRE(s.notes.size() == 1);
  CHECK(has(s.notes[0], "18 of 20 random draws repeated"));
}

TEST_CASE("grid: the product of choices and int ranges, the last key fastest, cut to --trials") {
  const hpo::Space s = parse(R"({"epochs": {"int": [2, 3]}, "hidden": {"choice": [8, 16, 32]}})");
  const hpo::Sampled all = hpo::sample_grid(s, 100);
  REQUIRE(all.configs.size() == 6);
  CHECK(all.notes.empty());
  CHECK(all.configs[0] == json::parse(R"({"epochs": 2, "hidden": 8})"));
  CHECK(all.configs[1] == json::parse(R"({"epochs": 2, "hidden": 16})"));
  CHECK(all.configs[5] == json::parse(R"({"epochs": 3, "hidden": 32})"));
  const hpo::Sampled cut = hpo::sample_grid(s, 4);
  CHECK(cut.configs.size() == 4);
  REQUIRE(cut.notes.size() == 1);
  CHECK(has(cut.notes[0], "the grid has 6 configurations; the first 4"));
  const subset::Error e = error_of([&] { hpo::sample_grid(parse(R"({"lr": {"log": [1e-4, 1e-2]}})"), 4); });
  CHECK(e.where() == "search");
  CHECK(has(e.message(), "'lr' is a log range"));
  CHECK(has(error_of([&] { hpo::sample_grid(parse(R"({"hidden": {"int": [1, 1000]}})"), 4); }).message(),
            "spans 1000 values, too many for a grid"));
}

TEST_CASE("a configuration applies to the settings, and its hash is stable") {
  const json c = json::parse(R"({"hidden": 64, "lr": 0.003})");
  const TrainSettings s = hpo::apply_config(TrainSettings{}, c);
  CHECK(s.hidden == 64);
  CHECK(*s.learning_rate == doctest::Approx(0.003));
  CHECK(hpo::config_hash(c) == hpo::config_hash(json::parse(R"({"lr": 0.003, "hidden": 64})")));
  CHECK(hpo::config_hash(c) != hpo::config_hash(json::parse(R"({"hidden": 65, "lr": 0.003})")));
  CHECK(hpo::config_hash(c).size() == 16);
  CHECK(hpo::config_text(c) == "hidden=64 lr=0.003");
}

TEST_CASE("--full is all, none or top-K") {
  CHECK(hpo::full_top_k("all") == -1);
  CHECK(hpo::full_top_k("none") == 0);
  CHECK(hpo::full_top_k("top-3") == 3);
  for (const std::string bad : {"top-0", "top-", "top-x", "some", "top--1", "top-99999999999999"}) {
    const subset::Error e = error_of([&] { hpo::full_top_k(bad); });
    CHECK(e.where() == "full");
  }
}
