#pragma once
// Each method declares its parameters once, as a ParamSchema: name, type, default, one-line doc
// and validation. The CLI options, --help, docs/cli.md and the manifest written next to a result
// are all generated from that single declaration, so they cannot drift apart.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace subset {

enum class ParamType { Int, Float, Bool, String, Choice };
std::string to_string(ParamType type);

struct Bound {
  double value;
  bool open;  // true: the bound itself is excluded
};
inline Bound at_least(double v) { return {v, false}; }
inline Bound greater_than(double v) { return {v, true}; }
inline Bound at_most(double v) { return {v, false}; }
inline Bound less_than(double v) { return {v, true}; }

using ParamValue = std::variant<bool, int64_t, double, std::string>;

struct ParamSpec {
  std::string name;
  ParamType type = ParamType::String;
  ParamValue default_value;
  std::string doc;
  std::optional<Bound> lower, upper;
  std::vector<std::string> choices;  // ParamType::Choice only

  // "integer in [1, inf)", "number in (0, 1]", "one of: a, b", "true or false", "text".
  std::string describe_domain() const;
};

std::string to_text(const ParamValue& value);

class ParamMap {
 public:
  bool has(const std::string& name) const { return values_.count(name) != 0; }
  int64_t get_int(const std::string& name) const;
  double get_float(const std::string& name) const;
  bool get_bool(const std::string& name) const;
  const std::string& get_string(const std::string& name) const;  // String and Choice
  void set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }
  const std::map<std::string, ParamValue>& values() const { return values_; }
  nlohmann::json to_json() const;

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

class ParamSchema {
 public:
  // `owner` names the method in error messages: "parameter 'k' of kcenter ...".
  explicit ParamSchema(std::string owner) : owner_(std::move(owner)) {}

  ParamSchema& add_int(std::string name, int64_t default_value, std::string doc,
                       std::optional<int64_t> min = std::nullopt, std::optional<int64_t> max = std::nullopt);
  ParamSchema& add_float(std::string name, double default_value, std::string doc,
                         std::optional<Bound> lower = std::nullopt, std::optional<Bound> upper = std::nullopt);
  ParamSchema& add_bool(std::string name, bool default_value, std::string doc);
  ParamSchema& add_string(std::string name, std::string default_value, std::string doc);
  ParamSchema& add_choice(std::string name, std::string default_value, std::string doc,
                          std::vector<std::string> choices);

  const std::string& owner() const { return owner_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  const ParamSpec* find(const std::string& name) const;

  // Parses user text for the given names, validates every value, fills in defaults.
  // Unknown names, unparsable text and out-of-domain values throw Error naming the parameter.
  ParamMap resolve(const std::map<std::string, std::string>& given) const;
  // Parses and validates one value as the named parameter would take it.
  ParamValue parse(const std::string& name, const std::string& text) const;
  // Checks a map built in code: every value present, of the declared type and domain, no extras.
  void validate(const ParamMap& params) const;

  // | name | type | default | description | — for docs/ (tests check docs against it).
  std::string markdown_table() const;

 private:
  ParamSchema& add(ParamSpec spec);
  void check_domain(const ParamSpec& spec, const ParamValue& value) const;
  std::string owner_;
  std::vector<ParamSpec> specs_;
};

}  // namespace subset
