#include "tools/store_report.h"

#include <cstdio>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace subset::cli {
namespace {

std::string human_bytes(uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1000.0 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

std::string shape_text(const std::vector<int64_t>& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) out += (i ? "x" : "") + std::to_string(s[i]);
  return out;
}

}  // namespace

void print_store_report(const io::StoreInfo& info, std::ostream& out, const std::string& details) {
  out << info.path << ": " << io::kFormatName << " v" << info.format_version
      << (info.format_declared ? "" : " (format attributes absent; read as v1)") << ", " << human_bytes(info.file_size)
      << "\n";
  if (!info.source.empty()) out << "  source      " << info.source << "\n";
  if (!info.created_by.empty()) out << "  created by  " << info.created_by << "\n";
  if (info.energy.is_object() && info.energy.contains("kwh") && info.energy.contains("seconds")) {
    char cost[160];
    std::snprintf(cost, sizeof cost, "%.3g s, %.3g kWh, %.3g gCO2e", info.energy.value("seconds", 0.0),
                  info.energy.value("kwh", 0.0), info.energy.value("gco2e", 0.0));
    out << "  made in     " << cost << "\n";
  }
  out << details;
  out << "  features    " << info.n() << " x " << info.dim() << " " << info.features.dtype;
  if (!info.image_shape.empty()) out << " (images " << shape_text(info.image_shape) << ")";
  out << "\n  storage     ";
  if (info.features.chunk_rows > 0) out << "chunks of " << info.features.chunk_rows << " rows";
  else out << "contiguous";
  out << ", compression " << info.features.compression << ", " << human_bytes(info.features.storage_bytes) << "\n";
  out << "  labels      ";
  if (info.has_labels) out << info.class_counts.size() << " classes";
  else out << "none";
  out << "\n  test split  ";
  if (info.has_test) out << info.test_n() << " rows" << (info.has_test_labels ? ", labelled" : ", no labels");
  else out << "none";
  out << "\n";
  if (info.value_min && info.value_max) {
    char range[96];
    std::snprintf(range, sizeof range, "  values      in [%.6g, %.6g]\n", *info.value_min, *info.value_max);
    out << range;
  }
  if (!info.has_labels && !info.has_test_labels) return;

  std::set<int64_t> classes;
  for (const auto& [c, n] : info.class_counts) classes.insert(c);
  for (const auto& [c, n] : info.test_class_counts) classes.insert(c);
  char line[160];
  std::snprintf(line, sizeof line, "  %5s %9s %9s  %s\n", "class", "train", "test", "name");
  out << line;
  for (int64_t c : classes) {
    auto count = [c](const std::map<int64_t, int64_t>& m) {
      auto it = m.find(c);
      return it == m.end() ? int64_t{0} : it->second;
    };
    const std::string name = c < static_cast<int64_t>(info.class_names.size()) ? info.class_names[c] : "";
    std::snprintf(line, sizeof line, "  %5lld %9lld %9lld  %s\n", static_cast<long long>(c),
                  static_cast<long long>(count(info.class_counts)), static_cast<long long>(count(info.test_class_counts)),
                  name.c_str());
    out << line;
  }
}

std::string with_thousands(int64_t value) {
  std::string digits = std::to_string(value < 0 ? -static_cast<uint64_t>(value) : static_cast<uint64_t>(value));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

namespace {

using nlohmann::json;

std::string text_of(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

int64_t int_of(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number_integer() ? j[key].get<int64_t>() : 0;
}

// "PATH: FORMAT vV, SIZE" -- the first line of every report but the store's.
void print_head(const json& j, const std::string& what, std::ostream& out) {
  out << text_of(j, "path") << ": " << what << " (" << text_of(j, "format") << " v" << int_of(j, "format_version")
      << "), " << human_bytes(j.value("file_size", uint64_t{0})) << "\n";
}

void print_energy(const json& j, std::ostream& out) {
  const json& e = j.contains("energy_summary") ? j["energy_summary"] : json();
  out << "  energy      ";
  if (!e.is_object()) {
    out << "not recorded\n";
    return;
  }
  char text[160];
  std::snprintf(text, sizeof text, "%.3g kWh (%s)", e.value("kwh", 0.0), text_of(e, "source").c_str());
  out << text;
  if (e["seconds"].is_number()) {
    std::snprintf(text, sizeof text, ", %.3g s", e["seconds"].get<double>());
    out << text;
  }
  if (e["gco2e"].is_number()) {
    std::snprintf(text, sizeof text, ", %.3g gCO2e", e["gco2e"].get<double>());
    out << text;
  }
  out << "\n";
}

void print_created_by(const json& j, std::ostream& out) {
  if (!text_of(j, "created_by").empty()) out << "  created by  " << text_of(j, "created_by") << "\n";
}

std::string compact(const json& j) { return j.is_null() ? "none" : j.dump(); }

// What an embedding store embeds and the records of what made a store, as report lines.
std::string store_details(const io::FileDescription& d) {
  std::ostringstream out;
  const json& j = d.json;
  const io::StoreInfo& info = *d.store;
  if (d.kind == io::FileKind::EmbeddingStore) {
    const json& e = j["embedding"];
    if (e.is_object()) {
      out << "  embedding   " << (text_of(e, "model").empty() ? "?" : text_of(e, "model"));
      if (e.contains("input_dim") && e["input_dim"].is_number_integer())
        out << ", " << e["input_dim"].get<int64_t>() << " -> " << info.dim();
      out << "\n";
      if (e.contains("settings")) out << "  settings    " << compact(e["settings"]) << "\n";
    }
    if (info.same_rows)
      out << "  rows of     " << info.same_rows->source << " (" << with_thousands(info.same_rows->n) << " rows, "
          << info.same_rows->checksum << ")\n";
  }
  const json& provenance = j["provenance"];
  if (!provenance.is_object()) return out.str();
  if (provenance.contains("condensation") && provenance["condensation"].is_object()) {
    const json& c = provenance["condensation"];
    out << "  condensed   " << text_of(c, "method") << ", " << int_of(c, "iterations_done") << " iterations";
    if (!text_of(c, "source").empty()) out << ", of " << text_of(c, "source");
    out << "\n";
  }
  if (provenance.contains("transform") && provenance["transform"].is_object()) {
    const json& t = provenance["transform"];
    out << "  transform   " << text_of(t, "method") << " " << int_of(t, "input_dim") << " -> " << int_of(t, "output_dim");
    if (!text_of(t, "fitted_on").empty()) out << ", fitted on " << text_of(t, "fitted_on");
    out << "\n";
  }
  if (provenance.contains("active_learning") && provenance["active_learning"].is_object()) {
    const json& a = provenance["active_learning"];
    out << "  labelled    " << int_of(a, "labelled") << " rows in " << int_of(a, "rounds")
        << " rounds of active learning (" << text_of(a, "project") << ")\n";
  }
  return out.str();
}

void print_selection(const json& j, std::ostream& out) {
  print_head(j, "selection", out);
  out << "  method      " << text_of(j, "method") << ", seed " << j.value("seed", uint64_t{0}) << ", budget "
      << int_of(j, "budget") << (j.value("per_class", false) ? " (per class)" : "") << "\n";
  out << "  parameters  " << compact(j["params"]) << "\n";
  const int64_t k = int_of(j, "selected"), n = int_of(j, "source_n");
  out << "  selected    " << with_thousands(k) << " of " << with_thousands(n) << " rows";
  if (j["fraction"].is_number()) {
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%.3g%%)", 100.0 * j["fraction"].get<double>());
    out << pct;
  }
  if (j.value("weighted", false)) {
    char sum[48];
    std::snprintf(sum, sizeof sum, "%.6g", j["weights_sum"].get<double>());
    out << ", weighted (weights sum to " << sum << ")";
  } else {
    out << ", unweighted";
  }
  if (j.value("scored", false)) out << ", scored";
  out << "\n";
  out << "  source      " << (text_of(j, "source").empty() ? "?" : text_of(j, "source")) << " ("
      << with_thousands(n) << " rows";
  if (int_of(j, "source_dim") > 0) out << " x " << int_of(j, "source_dim");
  if (!text_of(j, "source_checksum").empty()) out << ", " << text_of(j, "source_checksum");
  out << ")\n";
  if (text_of(j, "features_dataset") != "/features" && !text_of(j, "features_dataset").empty())
    out << "  features    " << text_of(j, "features_dataset") << "\n";
  if (j["embedding"].is_object()) out << "  embedding   selected on " << text_of(j["embedding"], "path") << "\n";
  if (j["same_rows"].is_object())
    out << "  rows of     " << text_of(j["same_rows"], "source") << " (same-rows store)\n";
  print_created_by(j, out);
  print_energy(j, out);
}

void print_model(const json& j, std::ostream& out) {
  print_head(j, "model", out);
  out << "  method      " << text_of(j, "method") << ", " << int_of(j, "input_dim") << " -> " << int_of(j, "output_dim")
      << " dimensions\n";
  out << "  parameters  " << compact(j["params"]) << "\n";
  if (j["explained_variance_ratio"].is_number()) {
    char text[64];
    std::snprintf(text, sizeof text, "%.4g%% of the variance", 100.0 * j["explained_variance_ratio"].get<double>());
    out << "  explained   " << text << "\n";
  }
  out << "  fitted on   " << (text_of(j, "source").empty() ? "?" : text_of(j, "source")) << " (";
  if (j["source_rows"].is_number_integer()) out << with_thousands(j["source_rows"].get<int64_t>()) << " rows";
  else out << "rows not recorded";
  if (!text_of(j, "source_checksum").empty()) out << ", " << text_of(j, "source_checksum");
  out << "), seed " << text_of(j, "seed") << "\n";
  out << "  arrays      ";
  bool first = true;
  for (auto it = j["arrays"].begin(); it != j["arrays"].end(); ++it) {
    std::vector<int64_t> shape = it.value().get<std::vector<int64_t>>();
    out << (first ? "" : ", ") << it.key() << " " << shape_text(shape);
    first = false;
  }
  out << (first ? "none\n" : "\n");
  print_created_by(j, out);
  print_energy(j, out);
}

void print_checkpoint(const json& j, std::ostream& out) {
  print_head(j, "condensation checkpoint", out);
  const std::string method = j["method"].is_string() ? j["method"].get<std::string>() : "?";
  const bool one = j["ipc"].is_number_integer() && j["ipc"].get<int64_t>() == 1;
  out << "  method      " << method << ", " << (j["ipc"].is_number() ? j["ipc"].dump() : "?")
      << (one ? " image" : " images") << " per class, "
      << (j["classes"].is_number() ? j["classes"].dump() : "?") << " classes (" << int_of(j, "images") << " images of "
      << int_of(j, "dim") << " values)\n";
  out << "  iterations  " << (j["iterations_done"].is_number() ? j["iterations_done"].dump() : "?") << " done of "
      << (j["iterations"].is_number() ? j["iterations"].dump() : "?");
  if (j["last_loss"].is_number()) {
    char loss[48];
    std::snprintf(loss, sizeof loss, ", last loss %.4g", j["last_loss"].get<double>());
    out << loss;
  }
  out << "\n  settings    " << compact(j["settings"]) << "\n";
  out << "  source      " << (text_of(j, "source").empty() ? "?" : text_of(j, "source"));
  if (!text_of(j, "source_checksum").empty()) out << " (" << text_of(j, "source_checksum") << ")";
  out << "\n";
  print_created_by(j, out);
  print_energy(j, out);
  if (!text_of(j, "output").empty())
    out << "  resume      subset condense " << (text_of(j, "source").empty() ? "STORE" : text_of(j, "source")) << " -o "
        << text_of(j, "output") << " --resume, with the same settings\n";
}

}  // namespace

void print_file_report(const io::FileDescription& d, std::ostream& out) {
  const json& j = d.json;
  switch (d.kind) {
    case io::FileKind::Store:
    case io::FileKind::EmbeddingStore:
      print_store_report(*d.store, out, store_details(d));
      break;
    case io::FileKind::Selection: print_selection(j, out); break;
    case io::FileKind::Model: print_model(j, out); break;
    case io::FileKind::Checkpoint: print_checkpoint(j, out); break;
  }
  if (j.contains("store_match")) {
    const json& m = j["store_match"];
    out << "  store       " << (m.value("matches", false) ? "matches " : "does NOT match ") << text_of(m, "store")
        << ": " << text_of(m, "reason") << "\n";
  }
  if (j.contains("values_checked")) {
    const json& v = j["values_checked"];
    const int64_t values = int_of(v, "values");
    if (values == 0) {
      out << "checked: no floating-point values stored (nothing to check)\n";
    } else {
      out << "checked: all " << with_thousands(values) << " values finite (";
      bool first = true;
      for (const json& p : v["parts"]) {
        out << (first ? "" : ", ") << text_of(p, "name") << " " << with_thousands(int_of(p, "rows"));
        if (int_of(p, "cols") != 1) out << " x " << with_thousands(int_of(p, "cols"));
        first = false;
      }
      out << ")\n";
    }
  }
}

}  // namespace subset::cli
