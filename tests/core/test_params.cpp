// Tests for libsubset/core/params.h: parsing, validation, defaults and generated docs.
#include <doctest/doctest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "support/error_of.h"

using subset::ParamMap;
using subset::ParamSchema;
using subset::ParamValue;

using subset::test::error_of;

namespace {

ParamSchema kcenter_schema() {
  ParamSchema s("kcenter");
  s.add_int("k", 10, "number of centres", 1, 100)
      .add_float("fraction", 0.1, "share of the data to keep", subset::greater_than(0.0), subset::at_most(1.0))
      .add_bool("balanced", false, "keep class proportions")
      .add_choice("metric", "l2", "distance", {"l2", "cosine"})
      .add_string("tag", "", "free text");
  return s;
}

}  // namespace

TEST_CASE("resolve parses given values and fills in defaults") {
  const ParamSchema s = kcenter_schema();
  const ParamMap p = s.resolve({{"k", "5"}, {"fraction", "0.25"}, {"balanced", "yes"}, {"metric", "cosine"}});
  CHECK(p.get_int("k") == 5);
  CHECK(p.get_float("fraction") == 0.25);
  CHECK(p.get_bool("balanced") == true);
  CHECK(p.get_string("metric") == "cosine");
  CHECK(p.get_string("tag") == "");
  CHECK(p.values().size() == 5);

  const ParamMap d = s.resolve({});
  CHECK(d.get_int("k") == 10);
  CHECK(d.get_float("fraction") == 0.1);
  CHECK(d.get_bool("balanced") == false);
  CHECK(d.get_string("metric") == "l2");
  CHECK(d.has("tag"));
  CHECK_NOTHROW(s.validate(d));
  CHECK_NOTHROW(s.validate(p));
}

TEST_CASE("integers: whole numbers only, bounds inclusive") {
  const ParamSchema s = kcenter_schema();
  CHECK(std::get<int64_t>(s.parse("k", "1")) == 1);
  CHECK(std::get<int64_t>(s.parse("k", "100")) == 100);
  CHECK(std::get<int64_t>(s.parse("k", "+7")) == 7);
  for (const char* bad : {"0", "101", "-3", "5.5", "abc", "", "5x", " 5", "1e2"}) {
    CAPTURE(bad);
    const subset::Error e = error_of([&] { s.parse("k", bad); });
    CHECK(e.where() == "k");  // the parameter, which the CLI prints as --k
    CHECK(e.message().find("parameter 'k' must be an integer in [1, 100]") != std::string::npos);
  }
  const subset::Error e = error_of([&] { s.parse("k", "5.5"); });
  CHECK(e.message() == "parameter 'k' must be an integer in [1, 100], got '5.5'");
}

TEST_CASE("floats: open and closed bounds, finite values") {
  const ParamSchema s = kcenter_schema();
  CHECK(std::get<double>(s.parse("fraction", "1")) == 1.0);      // closed upper bound
  CHECK(std::get<double>(s.parse("fraction", "1e-9")) == 1e-9);  // just above the open lower bound
  CHECK(std::get<double>(s.parse("fraction", "+0.5")) == 0.5);
  for (const char* bad : {"0", "-0.1", "1.0000001", "nan", "inf", "x", "0.5.1"}) {
    CAPTURE(bad);
    CHECK_THROWS_WITH_AS(s.parse("fraction", bad), doctest::Contains("parameter 'fraction' must be a number in (0, 1]"),
                         subset::Error);
  }

  ParamSchema t("m");
  t.add_float("lr", 0.5, "step", subset::at_least(0.0), subset::less_than(1.0));
  CHECK(std::get<double>(t.parse("lr", "0")) == 0.0);  // closed lower bound
  CHECK_THROWS_WITH_AS(t.parse("lr", "1"), doctest::Contains("number in [0, 1)"), subset::Error);
  CHECK(std::get<double>(t.parse("lr", "0.999")) == 0.999);
}

TEST_CASE("booleans accept the usual spellings") {
  const ParamSchema s = kcenter_schema();
  for (const char* t : {"true", "1", "yes", "on"}) CHECK(std::get<bool>(s.parse("balanced", t)) == true);
  for (const char* f : {"false", "0", "no", "off"}) CHECK(std::get<bool>(s.parse("balanced", f)) == false);
  CHECK_THROWS_WITH_AS(s.parse("balanced", "maybe"),
                       doctest::Contains("parameter 'balanced' must be true or false, got 'maybe'"), subset::Error);
}

TEST_CASE("choices accept only the listed values") {
  const ParamSchema s = kcenter_schema();
  CHECK(std::get<std::string>(s.parse("metric", "cosine")) == "cosine");
  CHECK_THROWS_WITH_AS(s.parse("metric", "manhattan"),
                       doctest::Contains("parameter 'metric' must be one of: l2, cosine, got 'manhattan'"),
                       subset::Error);
  CHECK_THROWS_AS(s.parse("metric", "L2"), subset::Error);  // case matters
  CHECK(std::get<std::string>(s.parse("tag", "anything, at all")) == "anything, at all");
}

TEST_CASE("unknown parameters list the known ones") {
  const ParamSchema s = kcenter_schema();
  const subset::Error e = error_of([&] { s.resolve({{"kk", "3"}}); });
  CHECK(e.message() == "unknown parameter 'kk'; known: k, fraction, balanced, metric, tag; did you mean 'k'?");
  CHECK(e.where() == "kcenter");

  const ParamSchema none("random");
  CHECK_THROWS_WITH_AS(none.resolve({{"k", "3"}}), doctest::Contains("unknown parameter 'k' (it takes none)"),
                       subset::Error);
  CHECK(none.resolve({}).values().empty());
}

TEST_CASE("describe_domain") {
  const ParamSchema s = kcenter_schema();
  CHECK(s.find("k")->describe_domain() == "integer in [1, 100]");
  CHECK(s.find("fraction")->describe_domain() == "number in (0, 1]");
  CHECK(s.find("balanced")->describe_domain() == "true or false");
  CHECK(s.find("metric")->describe_domain() == "one of: l2, cosine");
  CHECK(s.find("tag")->describe_domain() == "text");
  CHECK(s.find("nope") == nullptr);

  ParamSchema t("m");
  t.add_int("free", 0, "no bounds").add_int("low", 3, "min only", 2).add_float("up", 0.0, "max only", std::nullopt,
                                                                                 subset::less_than(5.0));
  CHECK(t.find("free")->describe_domain() == "integer");
  CHECK(t.find("low")->describe_domain() == "integer in [2, inf)");
  CHECK(t.find("up")->describe_domain() == "number in (-inf, 5)");
  CHECK(std::get<int64_t>(t.parse("free", "-9223372036854775808")) == INT64_MIN);
  CHECK_THROWS_AS(t.parse("low", "1"), subset::Error);
}

TEST_CASE("an integer's range is printed in full, and so is the message naming it") {
  ParamSchema t("m");
  t.add_int("rows", 5, "large bounds", -20000000, 10000000).add_float("rate", 0.5, "number", subset::greater_than(0.0));
  CHECK(t.find("rows")->describe_domain() == "integer in [-20000000, 10000000]");
  CHECK(t.find("rate")->describe_domain() == "number in (0, inf)");
  CHECK_THROWS_WITH_AS(t.parse("rows", "10000001"),
                       doctest::Contains("parameter 'rows' must be an integer in [-20000000, 10000000], got '10000001'"),
                       subset::Error);
}

TEST_CASE("schema declarations are checked") {
  ParamSchema s("m");
  s.add_int("k", 1, "doc");
  CHECK_THROWS_WITH_AS(s.add_float("k", 0.5, "again"), doctest::Contains("parameter 'k' declared twice"),
                       subset::Error);
  CHECK_THROWS_WITH_AS(s.add_int("n", 0, "bad default", 1), doctest::Contains("parameter 'n' must be"),
                       subset::Error);
  CHECK_THROWS_AS(s.add_choice("c", "z", "bad default", {"a", "b"}), subset::Error);
  CHECK(s.specs().size() == 1);
  CHECK(s.owner() == "m");
}

TEST_CASE("ParamMap getters check types") {
  ParamMap p;
  p.set("i", int64_t{4});
  p.set("d", 2.5);
  p.set("b", true);
  p.set("s", std::string("x"));
  CHECK(p.get_int("i") == 4);
  CHECK(p.get_float("i") == 4.0);  // an integer is also a number
  CHECK(p.get_float("d") == 2.5);
  CHECK(p.get_bool("b"));
  CHECK(p.get_string("s") == "x");
  CHECK_THROWS_WITH_AS(p.get_int("d"), doctest::Contains("parameter 'd' is not an integer"), subset::Error);
  CHECK_THROWS_WITH_AS(p.get_float("s"), doctest::Contains("parameter 's' is not a number"), subset::Error);
  CHECK_THROWS_WITH_AS(p.get_bool("i"), doctest::Contains("parameter 'i' is not a boolean"), subset::Error);
  CHECK_THROWS_WITH_AS(p.get_string("b"), doctest::Contains("parameter 'b' is not text"), subset::Error);
  CHECK_THROWS_WITH_AS(p.get_int("missing"), doctest::Contains("parameter 'missing' is not set"), subset::Error);
}

TEST_CASE("to_json keeps each value's type") {
  const ParamMap p = kcenter_schema().resolve({{"k", "5"}, {"balanced", "on"}});
  const nlohmann::json j = p.to_json();
  const nlohmann::json expected = {{"k", 5}, {"fraction", 0.1}, {"balanced", true}, {"metric", "l2"}, {"tag", ""}};
  CHECK(j == expected);
  CHECK(j["k"].is_number_integer());
  CHECK(j["fraction"].is_number_float());
  CHECK(j["balanced"].is_boolean());
  CHECK(j["metric"].is_string());
  CHECK(ParamMap().to_json() == nlohmann::json::object());
}

TEST_CASE("to_text and to_string") {
  CHECK(subset::to_text(ParamValue{true}) == "true");
  CHECK(subset::to_text(ParamValue{int64_t{-12}}) == "-12");
  CHECK(subset::to_text(ParamValue{0.1}) == "0.1");
  CHECK(subset::to_text(ParamValue{std::string("abc")}) == "abc");
  CHECK(subset::to_string(subset::ParamType::Int) == "int");
  CHECK(subset::to_string(subset::ParamType::Float) == "float");
  CHECK(subset::to_string(subset::ParamType::Bool) == "bool");
  CHECK(subset::to_string(subset::ParamType::String) == "string");
  CHECK(subset::to_string(subset::ParamType::Choice) == "choice");
}

TEST_CASE("markdown_table has a header and one row per parameter") {
  const ParamSchema s = kcenter_schema();
  std::istringstream in(s.markdown_table());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 2 + s.specs().size());
  CHECK(lines[0] == "| parameter | type | default | values | description |");
  CHECK(lines[1] == "|---|---|---|---|---|");
  CHECK(lines[2] == "| `k` | int | `10` | integer in [1, 100] | number of centres |");
  CHECK(lines[3] == "| `fraction` | float | `0.1` | number in (0, 1] | share of the data to keep |");
  CHECK(lines[4] == "| `balanced` | bool | `false` | true or false | keep class proportions |");
  CHECK(lines[5] == "| `metric` | choice | `l2` | one of: l2, cosine | distance |");
  CHECK(lines[6] == "| `tag` | string | `` | text | free text |");
}

TEST_CASE("validate checks maps built in code") {
  const ParamSchema s = kcenter_schema();
  ParamMap good = s.resolve({});
  CHECK_NOTHROW(s.validate(good));

  ParamMap int_for_float = good;
  int_for_float.set("fraction", int64_t{1});  // an integer is a valid number
  CHECK_NOTHROW(s.validate(int_for_float));

  ParamMap wrong_type = good;
  wrong_type.set("k", 5.0);  // a double where an integer is declared
  CHECK_THROWS_WITH_AS(s.validate(wrong_type), doctest::Contains("parameter 'k' must be an integer in [1, 100]"),
                       subset::Error);

  ParamMap text_for_bool = good;
  text_for_bool.set("balanced", std::string("true"));
  CHECK_THROWS_WITH_AS(s.validate(text_for_bool), doctest::Contains("parameter 'balanced' must be true or false"),
                       subset::Error);

  ParamMap bool_for_string = good;
  bool_for_string.set("tag", true);
  CHECK_THROWS_WITH_AS(s.validate(bool_for_string), doctest::Contains("parameter 'tag' must be text"),
                       subset::Error);

  ParamMap out_of_range = good;
  out_of_range.set("fraction", 0.0);
  CHECK_THROWS_WITH_AS(s.validate(out_of_range), doctest::Contains("parameter 'fraction'"), subset::Error);

  ParamMap bad_choice = good;
  bad_choice.set("metric", std::string("l1"));
  CHECK_THROWS_WITH_AS(s.validate(bad_choice), doctest::Contains("parameter 'metric'"), subset::Error);

  ParamMap extra = good;
  extra.set("bogus", int64_t{1});
  CHECK_THROWS_WITH_AS(s.validate(extra), doctest::Contains("unknown parameter 'bogus'; known: k"), subset::Error);

  ParamMap missing;
  missing.set("k", int64_t{3});
  CHECK_THROWS_WITH_AS(s.validate(missing), doctest::Contains("parameter 'fraction' is missing"), subset::Error);
}
