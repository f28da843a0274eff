#include "tools/store_report.h"

#include <cstdio>
#include <set>
#include <string>

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

void print_store_report(const io::StoreInfo& info, std::ostream& out) {
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

}  // namespace subset::cli
