#pragma once
// Each method declares its parameters once, as a ParamSchema: name, type, range, default, one-line
// doc and the methods it applies to. The CLI options (tools/param_options.h), --help, the docs
// tables, the manifest and report JSON keys (the parameter's name, spelt as its option without the
// dashes) and validation all come from that single declaration, so they cannot drift apart.
// Settings structs bind their fields to a schema with SettingsSchema (settings_schema.h).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "libsubset/core/error.h"

namespace subset {

// A bad value of a declared parameter or job setting. where() is the parameter's name in the
// library's vocabulary ("budget", "lr-img"); the CLI prints it as its option ("--budget").
class ParamError : public Error {
 public:
  ParamError(std::string parameter, std::string what) : Error(std::move(what), parameter), parameter_(std::move(parameter)) {}
  const std::string& parameter() const noexcept { return parameter_; }

 private:
  std::string parameter_;
};

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
  // The methods it applies to, for a schema shared by several (condense's dm and dc); empty: all.
  std::vector<std::string> methods;
  // Non-empty: there is no fixed default; the library chooses one by method or data, as this says
  // ("dm 1, dc 0.1"). The value is then absent from a resolved ParamMap unless given.
  std::string default_note;

  // "integer in [1, inf)", "number in (0, 1]", "one of: a, b", "true or false", "text".
  std::string describe_domain() const;
  // For --help: "INT in [1, inf)", "FLOAT in (0, 1]", "{dm,dc}", "BOOL", "TEXT".
  std::string type_label() const;
  // The default as docs and --help show it: the value, or default_note.
  std::string default_text() const;
  bool applies_to(const std::string& method) const;
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
  // Declares a fully built spec (SettingsSchema uses it for method lists and default notes).
  ParamSchema& add(ParamSpec spec);

  const std::string& owner() const { return owner_; }
  const std::vector<ParamSpec>& specs() const { return specs_; }
  const ParamSpec* find(const std::string& name) const;

  // Parses user text for the given names, validates every value, fills in defaults.
  // Unknown names, unparsable text and out-of-domain values throw Error naming the parameter.
  ParamMap resolve(const std::map<std::string, std::string>& given) const;
  // Parses and validates one value as the named parameter would take it.
  ParamValue parse(const std::string& name, const std::string& text) const;
  // Checks a map built in code: every value present, of the declared type and domain, no extras.
  // A parameter with a default_note may be absent.
  void validate(const ParamMap& params) const;
  // Checks one value against the named parameter's type and domain; throws ParamError.
  void check(const std::string& name, const ParamValue& value) const;

  // | name | type | default | values | description | — for docs/ (tests check docs against it).
  // With `methods` a column says which methods each parameter applies to.
  std::string markdown_table() const;

 private:
  void check_domain(const ParamSpec& spec, const ParamValue& value) const;
  std::string owner_;
  std::vector<ParamSpec> specs_;
};

}  // namespace subset

// SUBSET_CHECK_PARAM(cond, parameter, message-stream): throws subset::ParamError naming the
// parameter (the library's name, e.g. "budget") when cond is false.
#define SUBSET_CHECK_PARAM(cond, parameter, msg)                      \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::ostringstream subset_check_os_;                            \
      subset_check_os_ << msg;                                        \
      throw ::subset::ParamError((parameter), subset_check_os_.str()); \
    }                                                                 \
  } while (0)

#define SUBSET_FAIL_PARAM(parameter, msg)                             \
  do {                                                                \
    std::ostringstream subset_check_os_;                              \
    subset_check_os_ << msg;                                          \
    throw ::subset::ParamError((parameter), subset_check_os_.str());   \
  } while (0)
