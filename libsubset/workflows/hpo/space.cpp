#include "libsubset/workflows/hpo/space.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"

namespace subset::workflows::hpo {
namespace {

// An int dimension larger than this is a range to sample, not to enumerate.
constexpr double kMaxGridValues = 100;

std::string value_text(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw ParamError("space", "space entry '" + key + "': " + what);
}

// Checks `v` as a value of the parameter (its type and domain), turning the schema's message into
// one that names the space entry.
void check_value(const std::string& key, const nlohmann::json& v) {
  if (!(v.is_number() || v.is_string())) bad(key, "value " + v.dump() + " is not a number or text");
  try {
    train_schema().schema().parse(key, value_text(v));
  } catch (const Error& e) {
    bad(key, "value " + v.dump() + ": " + e.message());
  }
}

std::pair<double, double> parse_range(const std::string& key, const std::string& kind, const nlohmann::json& r) {
  if (!r.is_array() || r.size() != 2 || !r[0].is_number() || !r[1].is_number())
    bad(key, "\"" + kind + "\" takes [low, high], two numbers; got " + r.dump());
  const double low = r[0].get<double>(), high = r[1].get<double>();
  if (!(low < high)) bad(key, "\"" + kind + "\" range needs low < high; got " + r.dump());
  return {low, high};
}

SpaceDim parse_dim(const std::string& key, const nlohmann::json& entry, const ParamSpec& spec) {
  static const std::string kinds = "log, float, int, choice";
  if (!entry.is_object() || entry.size() != 1)
    bad(key, "expected an object with one of " + kinds + " (e.g. {\"choice\": [1, 2]}); got " + entry.dump());
  const std::string kind = entry.begin().key();
  const nlohmann::json& body = entry.begin().value();
  SpaceDim d;
  d.name = key;
  d.integer = spec.type == ParamType::Int;
  const bool numeric = spec.type == ParamType::Int || spec.type == ParamType::Float;
  if (kind == "choice") {
    d.kind = DimKind::Choice;
    if (!body.is_array() || body.empty()) bad(key, "\"choice\" takes a non-empty list of values; got " + body.dump());
    for (const auto& v : body) check_value(key, v);
    d.choices.assign(body.begin(), body.end());
    return d;
  }
  if (kind != "log" && kind != "float" && kind != "int") bad(key, "unknown kind \"" + kind + "\" (expected " + kinds + ")");
  if (!numeric) bad(key, "\"" + kind + "\" needs a numeric parameter; " + key + " is " + to_string(spec.type) + ": use choice");
  std::tie(d.low, d.high) = parse_range(key, kind, body);
  if (kind == "log") {
    d.kind = DimKind::Log;
    if (!(d.low > 0)) bad(key, "\"log\" needs positive bounds; got " + body.dump());
  } else if (kind == "float") {
    d.kind = DimKind::Float;
    if (d.integer) bad(key, key + " takes whole numbers: use int, log or choice");
  } else {
    d.kind = DimKind::Int;
    if (!body[0].is_number_integer() || !body[1].is_number_integer())
      bad(key, "\"int\" takes whole-number bounds; got " + body.dump());
    if (!d.integer) bad(key, key + " is a real number: use float or log");
  }
  // Both ends must be values the parameter takes, so that every draw is.
  for (const auto& v : body) check_value(key, v);
  return d;
}

nlohmann::json draw(const SpaceDim& d, Rng& rng) {
  switch (d.kind) {
    case DimKind::Choice:
      return d.choices[rng.uniform_index(d.choices.size())];
    case DimKind::Int:
      return static_cast<int64_t>(d.low) +
             static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(d.high - d.low) + 1));
    case DimKind::Float:
      return d.low + rng.uniform01() * (d.high - d.low);
    case DimKind::Log: {
      const double v = std::exp(std::log(d.low) + rng.uniform01() * (std::log(d.high) - std::log(d.low)));
      if (d.integer) return static_cast<int64_t>(std::llround(std::min(std::max(v, d.low), d.high)));
      return v;
    }
  }
  return nullptr;
}

}  // namespace

std::vector<std::string> tunable_parameters(const TrainSettings& base) {
  std::vector<std::string> out;
  for (const ParamSpec& spec : train_schema().schema().specs()) {
    const std::string& n = spec.name;
    if (n == "model" || n == "device" || n == "schedule" || !spec.applies_to(base.model)) continue;
    if (n == "steps" && base.schedule != "steps") continue;
    if ((n == "patience" || n == "validation") && base.schedule != "early-stop") continue;
    if (n == "epochs" && base.schedule == "steps") continue;
    if (n == "augment" && base.model != "convnet") continue;
    out.push_back(n);
  }
  return out;
}

Space parse_space(const nlohmann::json& json, const TrainSettings& base) {
  SUBSET_CHECK_PARAM(json.is_object(), "space",
                     "the space must be a JSON object of parameter: {kind: values}; got " << json.type_name());
  SUBSET_CHECK_PARAM(!json.empty(), "space", "the space is empty: name at least one parameter to tune");
  const std::vector<std::string> valid = tunable_parameters(base);
  Space space;
  for (const auto& [key, entry] : json.items()) {
    if (std::find(valid.begin(), valid.end(), key) == valid.end())
      bad(key, "not a parameter of model " + base.model + " that a search can tune (valid: " + joined(valid) + ")");
    space.dims.push_back(parse_dim(key, entry, *train_schema().schema().find(key)));
  }
  return space;
}

Sampled sample_random(const Space& space, int64_t trials, uint64_t seed) {
  Sampled out;
  std::set<std::string> seen;
  const Rng root(seed);
  int64_t dropped = 0;
  for (int64_t i = 0; i < trials; ++i) {
    Rng rng = root.fork(static_cast<uint64_t>(i));
    Config c = Config::object();
    for (const SpaceDim& d : space.dims) c[d.name] = draw(d, rng);
    if (seen.insert(c.dump()).second) out.configs.push_back(std::move(c));
    else ++dropped;
  }
  if (dropped)
    out.notes.push_back(std::to_string(dropped) + " of " + std::to_string(trials) +
                        " random draws repeated an earlier configuration and were dropped");
  return out;
}

Sampled sample_grid(const Space& space, int64_t trials) {
  std::vector<std::vector<nlohmann::json>> axes;
  double total = 1;
  for (const SpaceDim& d : space.dims) {
    if (d.kind == DimKind::Log || d.kind == DimKind::Float)
      SUBSET_FAIL_PARAM("search", "grid search enumerates choices and small int ranges; space entry '"
                                      << d.name << "' is a " << (d.kind == DimKind::Log ? "log" : "float")
                                      << " range: give it as a choice, or use --search random");
    std::vector<nlohmann::json> axis = d.choices;
    if (d.kind == DimKind::Int) {
      SUBSET_CHECK_PARAM(d.high - d.low + 1 <= kMaxGridValues, "search",
                         "space entry '" << d.name << "' spans " << d.high - d.low + 1 << " values, too many for a grid (at most "
                                         << kMaxGridValues << "): give a choice, or use --search random");
      for (auto v = static_cast<int64_t>(d.low); v <= static_cast<int64_t>(d.high); ++v) axis.emplace_back(v);
    }
    total *= static_cast<double>(axis.size());
    axes.push_back(std::move(axis));
  }
  Sampled out;
  const auto count = static_cast<int64_t>(std::min(total, static_cast<double>(trials)));
  for (int64_t i = 0; i < count; ++i) {
    Config c = Config::object();
    auto rest = static_cast<uint64_t>(i);
    for (size_t k = axes.size(); k-- > 0;) {
      c[space.dims[k].name] = axes[k][rest % axes[k].size()];
      rest /= axes[k].size();
    }
    out.configs.push_back(std::move(c));
  }
  if (total > static_cast<double>(trials)) {
    std::ostringstream os;
    os << "the grid has " << total << " configurations; the first " << trials << " (--trials) are searched";
    out.notes.push_back(os.str());
  }
  return out;
}

TrainSettings apply_config(const TrainSettings& base, const Config& config) {
  TrainSettings s = base;
  for (const auto& [name, value] : config.items()) train_schema().set(s, name, value_text(value));
  return s;
}

std::string config_hash(const Config& config) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : config.dump()) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  std::ostringstream os;
  os << std::hex;
  os.width(16);
  os.fill('0');
  os << h;
  return os.str();
}

std::string config_text(const Config& config) {
  std::string out;
  for (const auto& [name, value] : config.items()) out += (out.empty() ? "" : " ") + name + "=" + value_text(value);
  return out;
}

}  // namespace subset::workflows::hpo
