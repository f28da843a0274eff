#include "libsubset/core/params.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "libsubset/core/edit_distance.h"
#include "libsubset/core/error.h"

namespace subset {
namespace {

std::string format_number(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os << v;
  return os.str();
}

template <typename T>
bool parse_whole(const std::string& text, T& out) {
  const char* begin = text.data();
  const char* end = begin + text.size();
  if (begin != end && *begin == '+') ++begin;  // from_chars rejects a leading '+'
  auto [ptr, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && ptr == end && begin != end;
}

// "must be an integer in [1, inf)", "must be a number in (0, 1]", "must be one of: a, b".
std::string must_be(const ParamSpec& spec) {
  const std::string domain = spec.describe_domain();
  if (spec.type == ParamType::Int) return "must be an " + domain;
  if (spec.type == ParamType::Float) return "must be a " + domain;
  return "must be " + domain;
}

}  // namespace

std::string to_string(ParamType type) {
  switch (type) {
    case ParamType::Int: return "int";
    case ParamType::Float: return "float";
    case ParamType::Bool: return "bool";
    case ParamType::String: return "string";
    case ParamType::Choice: return "choice";
  }
  return "?";
}

std::string to_text(const ParamValue& value) {
  struct Visitor {
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return format_number(d); }
    std::string operator()(const std::string& s) const { return s; }
  };
  return std::visit(Visitor{}, value);
}

std::string ParamSpec::describe_domain() const {
  switch (type) {
    case ParamType::Bool: return "true or false";  // no "|": it would split a markdown table cell
    case ParamType::String: return "text";
    case ParamType::Choice: {
      std::string out = "one of: ";
      for (size_t i = 0; i < choices.size(); ++i) out += (i ? ", " : "") + choices[i];
      return out;
    }
    case ParamType::Int:
    case ParamType::Float: {
      std::string out = type == ParamType::Int ? "integer" : "number";
      if (!lower && !upper) return out;
      // An integer's bounds in full: "%g" would print a maximum of 10000000 as 1e+07.
      auto bound = [&](double v) {
        return type == ParamType::Int && std::isfinite(v) && std::fabs(v) < 9.0e15
                   ? std::to_string(static_cast<int64_t>(v))
                   : format_number(v);
      };
      out += " in ";
      out += lower ? (lower->open ? "(" : "[") + bound(lower->value) : "(-inf";
      out += ", ";
      out += upper ? bound(upper->value) + (upper->open ? ")" : "]") : "inf)";
      return out;
    }
  }
  return "?";
}

std::string ParamSpec::type_label() const {
  switch (type) {
    case ParamType::Bool: return "BOOL";
    case ParamType::String: return "TEXT";
    case ParamType::Choice: {
      std::string out = "{";
      for (size_t i = 0; i < choices.size(); ++i) out += (i ? "," : "") + choices[i];
      return out + "}";
    }
    case ParamType::Int:
    case ParamType::Float: {
      const std::string domain = describe_domain();  // "integer in [1, inf)"
      const std::string label = type == ParamType::Int ? "INT" : "FLOAT";
      const size_t in = domain.find(" in ");
      return in == std::string::npos ? label : label + domain.substr(in);
    }
  }
  return "?";
}

std::string ParamSpec::default_text() const { return default_note.empty() ? to_text(default_value) : default_note; }

bool ParamSpec::applies_to(const std::string& method) const {
  if (methods.empty()) return true;
  for (const auto& m : methods)
    if (m == method) return true;
  return false;
}

const ParamValue& ParamMap::at(const std::string& name) const {
  auto it = values_.find(name);
  SUBSET_CHECK(it != values_.end(), "parameters", "parameter '" << name << "' is not set");
  return it->second;
}

int64_t ParamMap::get_int(const std::string& name) const {
  const auto& v = at(name);
  SUBSET_CHECK(std::holds_alternative<int64_t>(v), "parameters", "parameter '" << name << "' is not an integer");
  return std::get<int64_t>(v);
}

double ParamMap::get_float(const std::string& name) const {
  const auto& v = at(name);
  if (std::holds_alternative<int64_t>(v)) return static_cast<double>(std::get<int64_t>(v));
  SUBSET_CHECK(std::holds_alternative<double>(v), "parameters", "parameter '" << name << "' is not a number");
  return std::get<double>(v);
}

bool ParamMap::get_bool(const std::string& name) const {
  const auto& v = at(name);
  SUBSET_CHECK(std::holds_alternative<bool>(v), "parameters", "parameter '" << name << "' is not a boolean");
  return std::get<bool>(v);
}

const std::string& ParamMap::get_string(const std::string& name) const {
  const auto& v = at(name);
  SUBSET_CHECK(std::holds_alternative<std::string>(v), "parameters", "parameter '" << name << "' is not text");
  return std::get<std::string>(v);
}

nlohmann::json ParamMap::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : values_) std::visit([&](const auto& v) { out[name] = v; }, value);
  return out;
}

ParamSchema& ParamSchema::add(ParamSpec spec) {
  if (find(spec.name)) throw Error("parameter '" + spec.name + "' declared twice", owner_);
  // A bad default is a programming error: fail loudly.
  if (spec.default_note.empty()) check_domain(spec, spec.default_value);
  specs_.push_back(std::move(spec));
  return *this;
}

ParamSchema& ParamSchema::add_int(std::string name, int64_t default_value, std::string doc,
                                  std::optional<int64_t> min, std::optional<int64_t> max) {
  ParamSpec s{std::move(name), ParamType::Int, default_value, std::move(doc), {}, {}, {}, {}, {}};
  if (min) s.lower = at_least(static_cast<double>(*min));
  if (max) s.upper = at_most(static_cast<double>(*max));
  return add(std::move(s));
}

ParamSchema& ParamSchema::add_float(std::string name, double default_value, std::string doc,
                                    std::optional<Bound> lower, std::optional<Bound> upper) {
  return add({std::move(name), ParamType::Float, default_value, std::move(doc), lower, upper, {}, {}, {}});
}

ParamSchema& ParamSchema::add_bool(std::string name, bool default_value, std::string doc) {
  return add({std::move(name), ParamType::Bool, default_value, std::move(doc), {}, {}, {}, {}, {}});
}

ParamSchema& ParamSchema::add_string(std::string name, std::string default_value, std::string doc) {
  return add({std::move(name), ParamType::String, std::move(default_value), std::move(doc), {}, {}, {}, {}, {}});
}

ParamSchema& ParamSchema::add_choice(std::string name, std::string default_value, std::string doc,
                                     std::vector<std::string> choices) {
  return add({std::move(name), ParamType::Choice, std::move(default_value), std::move(doc), {}, {},
              std::move(choices), {}, {}});
}

const ParamSpec* ParamSchema::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

void ParamSchema::check_domain(const ParamSpec& spec, const ParamValue& value) const {
  auto fail = [&](const std::string& got) {
    throw ParamError(spec.name, "parameter '" + spec.name + "' " + must_be(spec) + ", got " + got);
  };
  switch (spec.type) {
    case ParamType::Bool:
      if (!std::holds_alternative<bool>(value)) fail(to_text(value));
      return;
    case ParamType::String:
      if (!std::holds_alternative<std::string>(value)) fail(to_text(value));
      return;
    case ParamType::Choice: {
      if (!std::holds_alternative<std::string>(value)) fail(to_text(value));
      const auto& s = std::get<std::string>(value);
      for (const auto& c : spec.choices)
        if (c == s) return;
      fail("'" + s + "'" + did_you_mean(s, spec.choices));
      return;
    }
    case ParamType::Int:
    case ParamType::Float: {
      double v;
      if (std::holds_alternative<int64_t>(value)) v = static_cast<double>(std::get<int64_t>(value));
      else if (spec.type == ParamType::Float && std::holds_alternative<double>(value)) v = std::get<double>(value);
      else return fail(to_text(value));
      if (!std::isfinite(v)) fail(to_text(value));
      if (spec.lower && (spec.lower->open ? v <= spec.lower->value : v < spec.lower->value)) fail(to_text(value));
      if (spec.upper && (spec.upper->open ? v >= spec.upper->value : v > spec.upper->value)) fail(to_text(value));
      return;
    }
  }
}

ParamValue ParamSchema::parse(const std::string& name, const std::string& text) const {
  const ParamSpec* spec = find(name);
  if (!spec) {
    std::string known;
    std::vector<std::string> names;
    for (const auto& s : specs_) {
      known += (known.empty() ? "" : ", ") + s.name;
      names.push_back(s.name);
    }
    throw Error("unknown parameter '" + name + "'" +
                    (known.empty() ? " (it takes none)" : "; known: " + known + did_you_mean(name, names)),
                owner_);
  }
  ParamValue value;
  auto bad = [&]() {
    throw ParamError(name, "parameter '" + name + "' " + must_be(*spec) + ", got '" + text + "'" +
                               (spec->type == ParamType::Choice ? did_you_mean(text, spec->choices) : std::string()));
  };
  switch (spec->type) {
    case ParamType::Int: {
      int64_t i;
      if (!parse_whole(text, i)) bad();
      value = i;
      break;
    }
    case ParamType::Float: {
      double d;
      if (!parse_whole(text, d)) bad();
      value = d;
      break;
    }
    case ParamType::Bool:
      if (text == "true" || text == "1" || text == "yes" || text == "on") value = true;
      else if (text == "false" || text == "0" || text == "no" || text == "off") value = false;
      else bad();
      break;
    case ParamType::String:
    case ParamType::Choice:
      value = text;
      break;
  }
  try {
    check_domain(*spec, value);
  } catch (const ParamError&) {
    bad();  // the same message, quoting the text as given
  }
  return value;
}

ParamMap ParamSchema::resolve(const std::map<std::string, std::string>& given) const {
  ParamMap out;
  for (const auto& [name, text] : given) out.set(name, parse(name, text));
  for (const auto& s : specs_)
    if (!out.has(s.name) && s.default_note.empty()) out.set(s.name, s.default_value);
  return out;
}

void ParamSchema::validate(const ParamMap& params) const {
  for (const auto& [name, value] : params.values()) {
    const ParamSpec* spec = find(name);
    if (!spec) parse(name, "");  // throws the "unknown parameter" error with the known list
    check_domain(*spec, value);
  }
  for (const auto& s : specs_)
    if (!params.has(s.name) && s.default_note.empty())
      throw ParamError(s.name, "parameter '" + s.name + "' is missing (" + owner_ + ")");
}

void ParamSchema::check(const std::string& name, const ParamValue& value) const {
  const ParamSpec* spec = find(name);
  if (!spec) parse(name, "");  // throws the "unknown parameter" error with the known list
  check_domain(*spec, value);
}

std::string ParamSchema::markdown_table() const {
  bool by_method = false;
  for (const auto& s : specs_) by_method = by_method || !s.methods.empty();
  std::ostringstream os;
  os << "| parameter | type | default | values |" << (by_method ? " applies to |" : "") << " description |\n"
     << "|---|---|---|---|" << (by_method ? "---|" : "") << "---|\n";
  for (const auto& s : specs_) {
    os << "| `" << s.name << "` | " << to_string(s.type) << " | "
       << (s.default_note.empty() ? "`" + to_text(s.default_value) + "`" : s.default_note) << " | "
       << s.describe_domain() << " | ";
    if (by_method) {
      std::string who;
      for (const auto& m : s.methods) who += (who.empty() ? "" : ", ") + m;
      os << (who.empty() ? "all" : who) << " | ";
    }
    os << s.doc << " |\n";
  }
  return os.str();
}

}  // namespace subset
