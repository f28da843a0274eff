#pragma once
// A settings struct bound to a ParamSchema, field by field. Each tunable is declared once: its name
// (the CLI option without the dashes, and the JSON key), the field it sets, its range or choices,
// the methods it applies to and a one-line doc; its default is the struct's own initialiser (read
// from a default-constructed S), or, for a std::optional field, a note saying how the library
// chooses it. From that declaration come the schema (CLI options, --help, docs tables), parsing of
// user text into the struct, validation of a struct built in code, and its JSON record.
//
//   static const SettingsSchema<Settings> schema = SettingsSchema<Settings>("condense")
//       .field("ipc", &Settings::ipc, "Synthetic images per class").at_least(1)
//       .field("lr-img", &Settings::lr_img, "Learning rate of the images").above(0).chosen_by("dm 1, dc 0.1")
//       .done();
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "libsubset/core/params.h"

namespace subset {

namespace settings_detail {

// How a field type maps onto a ParamValue.
template <class T>
struct Traits;
template <>
struct Traits<int64_t> {
  static constexpr ParamType type = ParamType::Int;
  static ParamValue to_value(int64_t v) { return v; }
  static int64_t from_value(const ParamValue& v) { return std::get<int64_t>(v); }
};
template <>
struct Traits<double> {
  static constexpr ParamType type = ParamType::Float;
  static ParamValue to_value(double v) { return v; }
  static double from_value(const ParamValue& v) {
    return std::holds_alternative<int64_t>(v) ? static_cast<double>(std::get<int64_t>(v)) : std::get<double>(v);
  }
};
template <>
struct Traits<bool> {
  static constexpr ParamType type = ParamType::Bool;
  static ParamValue to_value(bool v) { return v; }
  static bool from_value(const ParamValue& v) { return std::get<bool>(v); }
};
template <>
struct Traits<std::string> {
  static constexpr ParamType type = ParamType::String;
  static ParamValue to_value(const std::string& v) { return v; }
  static std::string from_value(const ParamValue& v) { return std::get<std::string>(v); }
};

template <class T>
struct Unwrap {
  using type = T;
  static constexpr bool optional = false;
};
template <class T>
struct Unwrap<std::optional<T>> {
  using type = T;
  static constexpr bool optional = true;
};

}  // namespace settings_detail

template <class S>
class SettingsSchema {
 public:
  explicit SettingsSchema(std::string owner) : schema_(std::move(owner)) {}

  // Declares the field `member` as parameter `name`. T is int64_t, double, bool or std::string, or
  // a std::optional of one of them (then chosen_by() must say how an unset value is chosen).
  template <class T>
  SettingsSchema& field(std::string name, T S::*member, std::string doc) {
    using U = settings_detail::Unwrap<T>;
    using Value = typename U::type;
    using Tr = settings_detail::Traits<Value>;
    check_open();
    Field f;
    f.spec.name = std::move(name);
    f.spec.type = Tr::type;
    f.spec.doc = std::move(doc);
    const S defaults{};
    if constexpr (U::optional) {
      if (defaults.*member) f.spec.default_value = Tr::to_value(*(defaults.*member));
      f.get = [member](const S& s) -> std::optional<ParamValue> {
        if (!(s.*member)) return std::nullopt;
        return Tr::to_value(*(s.*member));
      };
    } else {
      f.spec.default_value = Tr::to_value(defaults.*member);
      f.get = [member](const S& s) -> std::optional<ParamValue> { return Tr::to_value(s.*member); };
    }
    f.set = [member](S& s, const ParamValue& v) { s.*member = Tr::from_value(v); };
    fields_.push_back(std::move(f));
    return *this;
  }

  // Range of the last field (numbers).
  SettingsSchema& at_least(double v) { return bound(&ParamSpec::lower, subset::at_least(v)); }
  SettingsSchema& above(double v) { return bound(&ParamSpec::lower, greater_than(v)); }
  SettingsSchema& at_most(double v) { return bound(&ParamSpec::upper, subset::at_most(v)); }
  SettingsSchema& below(double v) { return bound(&ParamSpec::upper, less_than(v)); }
  // The last field (text) takes one of these.
  SettingsSchema& one_of(std::vector<std::string> choices) {
    last().type = ParamType::Choice;
    last().choices = std::move(choices);
    return *this;
  }
  // The last field applies to these methods only (of the struct's method, model, ...).
  SettingsSchema& only_for(std::vector<std::string> methods) {
    last().methods = std::move(methods);
    return *this;
  }
  // The last field has no fixed default: unset, the library chooses as `note` says.
  SettingsSchema& chosen_by(std::string note) {
    last().default_note = std::move(note);
    return *this;
  }
  // Ends the declaration: every default is checked against its field's domain (a bad one is a
  // programming error and throws at once).
  SettingsSchema done() {
    check_open();
    for (const Field& f : fields_) schema_.add(f.spec);
    sealed_ = true;
    return std::move(*this);
  }

  const ParamSchema& schema() const { return schema_; }
  const std::string& owner() const { return schema_.owner(); }

  // Parses `text` as parameter `name` (ParamError on unknown names and bad values) and sets it.
  void set(S& settings, const std::string& name, const std::string& text) const {
    const ParamValue value = schema_.parse(name, text);
    find_field(name).set(settings, value);
  }
  void set_all(S& settings, const std::map<std::string, std::string>& given) const {
    for (const auto& [name, text] : given) set(settings, name, text);
  }

  // Checks every set field against its domain; throws ParamError naming the parameter.
  void check(const S& settings) const {
    for (const Field& f : fields_)
      if (const auto v = f.get(settings)) schema_.check(f.spec.name, *v);
  }
  // Also: a field set that does not apply to `method` (only optional fields can be told apart from
  // their defaults; the CLI checks the options given).
  void check(const S& settings, const std::string& method) const {
    check(settings);
    for (const Field& f : fields_)
      if (!f.spec.applies_to(method) && !f.spec.default_note.empty() && f.get(settings))
        throw ParamError(f.spec.name, "parameter '" + f.spec.name + "' applies to " + applies_text(f.spec) +
                                          " only, not " + method);
  }

  // Every set field that applies to `method` (empty: all), under its parameter name.
  nlohmann::json to_json(const S& settings, const std::string& method = {}) const {
    nlohmann::json out = nlohmann::json::object();
    for (const Field& f : fields_) {
      if (!method.empty() && !f.spec.applies_to(method)) continue;
      if (const auto v = f.get(settings)) std::visit([&](const auto& x) { out[f.spec.name] = x; }, *v);
    }
    return out;
  }

 private:
  struct Field {
    ParamSpec spec;
    std::function<std::optional<ParamValue>(const S&)> get;
    std::function<void(S&, const ParamValue&)> set;
  };

  static std::string applies_text(const ParamSpec& spec) {
    std::string out;
    for (const auto& m : spec.methods) out += (out.empty() ? "" : ", ") + m;
    return out;
  }
  void check_open() const {
    if (sealed_) throw Error("settings schema declared after done()", schema_.owner());
  }
  ParamSpec& last() {
    check_open();
    if (fields_.empty()) throw Error("a range or note before any field", schema_.owner());
    return fields_.back().spec;
  }
  SettingsSchema& bound(std::optional<Bound> ParamSpec::*which, Bound b) {
    last().*which = b;
    return *this;
  }
  const Field& find_field(const std::string& name) const {
    for (const Field& f : fields_)
      if (f.spec.name == name) return f;
    throw Error("no field '" + name + "'", schema_.owner());  // parse() has already refused it
  }

  ParamSchema schema_;
  std::vector<Field> fields_;
  bool sealed_ = false;
};

}  // namespace subset
