// The METHOD:PARAM=VALUE entries of `subset bench --methods` (bench.h). Apart from bench.cpp, which
// lives in libsubset_workflows_nn, so that the CLI can check the entries before loading libtorch.
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/bench.h"

namespace subset::workflows {

const SettingsSchema<BenchJob>& bench_schema() {
  static const SettingsSchema<BenchJob> schema =
      SettingsSchema<BenchJob>("bench")
          .field("repeats", &BenchJob::repeats, "Selections and trainings per method and fraction (seeds SEED, SEED+1, ...)")
          .at_least(1)
          .done();
  return schema;
}

BenchMethod parse_bench_method(const std::string& text) {
  BenchMethod out;
  out.label = text;
  size_t colon = text.find(':');
  out.method = text.substr(0, colon);
  SUBSET_CHECK_PARAM(!out.method.empty(), "methods", "'" << text << "' names no method (write METHOD:PARAM=VALUE:...)");
  const select::MethodSpec* found = nullptr;
  try {
    found = &select::method(out.method);
  } catch (const Error& e) {
    throw ParamError("methods", e.message());  // the registry names select's --method
  }
  const select::MethodSpec& spec = *found;
  while (colon != std::string::npos) {
    const size_t next = text.find(':', colon + 1);
    const std::string piece = text.substr(colon + 1, next == std::string::npos ? std::string::npos : next - colon - 1);
    const size_t eq = piece.find('=');
    SUBSET_CHECK_PARAM(eq != std::string::npos && eq > 0, "methods",
                 "'" << piece << "' in '" << text << "' is not PARAM=VALUE (write METHOD:PARAM=VALUE:...)");
    SUBSET_CHECK_PARAM(out.params.emplace(piece.substr(0, eq), piece.substr(eq + 1)).second, "methods",
                 "parameter '" << piece.substr(0, eq) << "' given twice in '" << text << "'");
    colon = next;
  }
  try {
    spec.params.resolve(out.params);  // unknown parameters, bad values
  } catch (const Error& e) {
    // Named by the entry: the parameter is not an option of bench.
    throw ParamError("methods", e.message() + " in '" + text + "'");
  }
  return out;
}

std::vector<std::string> split_bench_list(const std::string& text, const std::string& option) {
  std::vector<std::string> items;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const size_t first = item.find_first_not_of(" \t");
    item = first == std::string::npos ? "" : item.substr(first, item.find_last_not_of(" \t") - first + 1);
    SUBSET_CHECK_PARAM(!item.empty(), option,
                 (text.find_first_not_of(" \t") == std::string::npos
                      ? std::string("empty list")
                      : "empty item " + std::to_string(items.size() + 1) + " in '" + text + "'")
                     << " (write ITEM,ITEM,... without empty items)");
    items.push_back(item);
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

std::vector<double> parse_bench_fractions(const std::string& text) {
  std::vector<double> fractions;
  for (const std::string& item : split_bench_list(text, "fractions")) {
    errno = 0;
    char* end = nullptr;
    const double f = std::strtod(item.c_str(), &end);
    SUBSET_CHECK_PARAM(end && *end == '\0' && errno != ERANGE && std::isfinite(f), "fractions",
                 "'" << item << "' is not a number (a fraction in (0, 1], e.g. 0.1)");
    fractions.push_back(f);
  }
  return fractions;
}

void check_bench_lists(const std::vector<std::string>& methods, const std::vector<double>& fractions) {
  SUBSET_CHECK_PARAM(!methods.empty(), "methods", "no method given");
  SUBSET_CHECK_PARAM(!fractions.empty(), "fractions", "no fraction given");
  for (size_t i = 0; i < methods.size(); ++i) {
    SUBSET_CHECK_PARAM(!methods[i].empty(), "methods", "empty method entry " << i + 1);
    for (size_t j = 0; j < i; ++j)
      SUBSET_CHECK_PARAM(methods[j] != methods[i], "methods", "'" << methods[i] << "' given twice");
  }
  for (size_t i = 0; i < fractions.size(); ++i) {
    const double f = fractions[i];
    SUBSET_CHECK_PARAM(std::isfinite(f) && f > 0 && f <= 1, "fractions",
                 "fraction " << fraction_label(f) << " is not in (0, 1]");
    // As the selections' file names write them: two fractions alike to 6 digits would share files.
    for (size_t j = 0; j < i; ++j)
      SUBSET_CHECK_PARAM(fraction_label(fractions[j]) != fraction_label(f), "fractions",
                   "fraction " << fraction_label(f) << " given twice");
  }
  for (const auto& m : methods) parse_bench_method(m);
}

}  // namespace subset::workflows
