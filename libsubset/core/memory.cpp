#include "libsubset/core/memory.h"

#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"

namespace subset {
namespace {

// The value in kB of the line "key: value kB" of a /proc file, in bytes; 0 when absent.
double proc_kb_field(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) != 0 || line.size() <= key.size() || line[key.size()] != ':') continue;
    std::istringstream fields(line.substr(key.size() + 1));
    double kb = 0;
    if (fields >> kb) return kb * 1024.0;
  }
  return 0.0;
}

}  // namespace

double physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page_size > 0 ? static_cast<double>(pages) * static_cast<double>(page_size) : 0.0;
}

double available_memory_bytes() {
  const double available = proc_kb_field("/proc/meminfo", "MemAvailable");
  return available > 0 ? available : physical_memory_bytes();
}

double resident_bytes() { return proc_kb_field("/proc/self/status", "VmRSS"); }
double peak_resident_bytes() { return proc_kb_field("/proc/self/status", "VmHWM"); }

double parse_memory_size(const std::string& text, const char* option) {
  size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  for (char& ch : unit) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  double scale = 0;
  if (unit.empty() || unit == "B") scale = 1;
  const char* prefixes = "KMGT";
  for (int p = 0; p < 4; ++p) {
    const std::string letter(1, prefixes[p]);
    if (unit == letter || unit == letter + "B" || unit == letter + "IB") scale = std::pow(1024.0, p + 1);
  }
  SUBSET_CHECK_PARAM(used > 0 && scale > 0 && std::isfinite(value) && value > 0, option,
                     "expected a size such as 512M or 4G, got '" << text << "'");
  const double bytes = value * scale;
  SUBSET_CHECK_PARAM(bytes >= 1024.0 * 1024.0, option, "must be at least 1M, got '" << text << "'");
  return bytes;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024.0 && u < 5) {
    bytes /= 1024.0;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.3g %s", bytes, units[u]);
  return text;
}

MemoryLimit MemoryLimit::of(const std::optional<double>& given) {
  if (given) return {*given, true};
  return {resident_bytes() + available_memory_bytes(), false};
}

double MemoryLimit::spendable() const {
  constexpr double kMargin = 16.0 * 1024 * 1024;
  return bytes - resident_bytes() - kMargin;
}

std::string MemoryLimit::describe() const {
  return given ? "--memory-limit " + format_bytes(bytes) : "the " + format_bytes(bytes) + " of memory available";
}

}  // namespace subset
