// SettingsSchema: a struct's fields bound to one parameter declaration each.
#include <doctest/doctest.h>

#include "libsubset/core/condense_settings.h"
#include "libsubset/core/settings_schema.h"
#include "libsubset/core/train_settings.h"
#include "tests/support/error_of.h"

namespace {

struct Toy {
  std::string method = "a";
  int64_t count = 4;
  double rate = 0.5;
  bool fast = false;
  std::optional<int64_t> loops;  // unset: chosen by method
};

const subset::SettingsSchema<Toy>& toy_schema() {
  static const subset::SettingsSchema<Toy> schema = subset::SettingsSchema<Toy>("toy")
                                                         .field("method", &Toy::method, "which")
                                                         .one_of({"a", "b"})
                                                         .field("count", &Toy::count, "how many")
                                                         .at_least(1)
                                                         .at_most(10)
                                                         .field("rate", &Toy::rate, "how fast")
                                                         .above(0)
                                                         .below(1)
                                                         .field("fast", &Toy::fast, "hurry")
                                                         .field("loops", &Toy::loops, "rounds")
                                                         .at_least(1)
                                                         .only_for({"b"})
                                                         .chosen_by("b: 3")
                                                         .done();
  return schema;
}

}  // namespace

TEST_CASE("settings schema: defaults come from the struct, types and ranges from the declaration") {
  const subset::ParamSchema& s = toy_schema().schema();
  REQUIRE(s.specs().size() == 5);
  CHECK(s.find("count")->type == subset::ParamType::Int);
  CHECK(std::get<int64_t>(s.find("count")->default_value) == 4);
  CHECK(s.find("count")->describe_domain() == "integer in [1, 10]");
  CHECK(s.find("count")->type_label() == "INT in [1, 10]");
  CHECK(s.find("rate")->type_label() == "FLOAT in (0, 1)");
  CHECK(s.find("method")->type_label() == "{a,b}");
  CHECK(s.find("fast")->type_label() == "BOOL");
  CHECK(s.find("loops")->default_text() == "b: 3");
  CHECK(s.find("loops")->applies_to("b"));
  CHECK_FALSE(s.find("loops")->applies_to("a"));
  // A parameter with a chosen default stays absent from a resolved map unless given.
  CHECK_FALSE(s.resolve({}).has("loops"));
  CHECK(s.resolve({{"loops", "2"}}).get_int("loops") == 2);
}

TEST_CASE("settings schema: text is parsed into the fields, bad text names the parameter") {
  Toy t;
  toy_schema().set_all(t, {{"count", "7"}, {"rate", "0.25"}, {"fast", "true"}, {"loops", "2"}, {"method", "b"}});
  CHECK(t.count == 7);
  CHECK(t.rate == 0.25);
  CHECK(t.fast);
  CHECK(t.loops == 2);
  CHECK(t.method == "b");
  const subset::Error e = subset::test::error_of([&] { toy_schema().set(t, "count", "11"); });
  CHECK(e.where() == "count");
  CHECK(e.message() == "parameter 'count' must be an integer in [1, 10], got '11'");
  CHECK(t.count == 7);  // unchanged by the refused value
  CHECK_THROWS_AS(toy_schema().set(t, "nope", "1"), subset::Error);
  CHECK_THROWS_AS(toy_schema().set(t, "method", "c"), subset::ParamError);
}

TEST_CASE("settings schema: check refuses values out of range and fields set for another method") {
  Toy t;
  CHECK_NOTHROW(toy_schema().check(t, t.method));
  t.rate = 1.0;
  CHECK_THROWS_WITH_AS(toy_schema().check(t), doctest::Contains("parameter 'rate' must be a number in (0, 1)"),
                       subset::ParamError);
  t.rate = 0.5;
  t.loops = 2;
  CHECK_THROWS_WITH_AS(toy_schema().check(t, "a"), doctest::Contains("parameter 'loops' applies to b only, not a"),
                       subset::ParamError);
  CHECK_NOTHROW(toy_schema().check(t, "b"));
}

TEST_CASE("settings schema: JSON keys are the parameter names, only those of the method, unset ones absent") {
  Toy t;
  nlohmann::json j = toy_schema().to_json(t, "a");
  CHECK(j == nlohmann::json{{"method", "a"}, {"count", 4}, {"rate", 0.5}, {"fast", false}});
  t.loops = 3;
  CHECK(toy_schema().to_json(t, "a").count("loops") == 0);
  CHECK(toy_schema().to_json(t, "b")["loops"] == 3);
}

TEST_CASE("settings schema: a default outside its own range is a programming error, caught at declaration") {
  CHECK_THROWS_AS(subset::SettingsSchema<Toy>("bad").field("count", &Toy::count, "x").at_least(5).done(),
                  subset::Error);
}

TEST_CASE("condense settings: the reference's defaults by method, dc-only parameters refused with dm") {
  subset::CondenseSettings s;
  const subset::CondenseSettings dm = subset::resolve_defaults(s);
  CHECK(*dm.lr_img == 1.0);
  CHECK(*dm.augment == "dsa");
  CHECK_FALSE(dm.outer_loop);
  s.method = "dc";
  s.ipc = 10;
  const subset::CondenseSettings dc = subset::resolve_defaults(s);
  CHECK(*dc.lr_img == 0.1);
  CHECK(*dc.augment == "none");
  CHECK(*dc.outer_loop == 10);
  CHECK(*dc.inner_loop == 50);
  s.ipc = 50;
  CHECK(*subset::resolve_defaults(s).outer_loop == 50);
  CHECK(*subset::resolve_defaults(s).inner_loop == 10);
  s.method = "dm";
  s.outer_loop = 2;
  const subset::Error e = subset::test::error_of([&] { subset::check_condense_settings(s); });
  CHECK(e.where() == "outer-loop");
  const nlohmann::json j = subset::to_json(dc);
  CHECK(j["lr-img"] == 0.1);
  CHECK(j["outer-loop"] == 10);
  CHECK(j["seed"] == "0");
  CHECK(subset::to_json(dm).count("lr-net") == 0);
}

TEST_CASE("train settings: the model's defaults fill what is unset; ranges checked once, in the library") {
  subset::TrainSettings t;
  t.model = "convnet";
  const subset::TrainSettings r = subset::resolve_defaults(t);
  CHECK(*r.epochs == 300);
  CHECK(*r.learning_rate == 0.01);
  t.batch = 0;
  CHECK(subset::test::error_of([&] { subset::check_train_settings(t); }).where() == "batch");
  t.batch = 8;
  t.model = "mlp";
  t.augment = "dsa";
  CHECK(subset::test::error_of([&] { subset::check_train_settings(t); }).where() == "augment");
}
