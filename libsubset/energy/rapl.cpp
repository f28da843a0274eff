#include "libsubset/energy/internal/rapl.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>

namespace subset::energy::internal {
namespace {

namespace fs = std::filesystem;

// A small sysfs file's text without its trailing newline, or the reason it could not be read.
// Plain POSIX calls: they give the errno (EACCES, EISDIR, ...) the notes must name, and they are
// cheap enough for the sampler.
bool read_small_file(const std::string& path, std::string& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  char buf[64];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  const int read_errno = errno;
  ::close(fd);
  if (n < 0) {
    error = std::strerror(read_errno);
    return false;
  }
  out.assign(buf, static_cast<size_t>(n));
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return true;
}

bool read_counter(const std::string& path, uint64_t& value, std::string& error) {
  std::string text;
  if (!read_small_file(path, text, error)) return false;
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    error = "not a counter value: '" + text + "'";
    return false;
  }
  value = std::stoull(text);
  return true;
}

struct ZoneDir {
  std::string id;  // "intel-rapl:0" or "intel-rapl:0:2"
  fs::path path;
  int package = 0;  // N of intel-rapl:N[:M]
  bool top = true;
};

// /sys/class/powercap lists every zone, subzones included, as a link named by its id; some trees
// (or a root pointing at /sys/devices/virtual/powercap/intel-rapl) only nest them. Both are read,
// each zone once.
std::vector<ZoneDir> list_zones(const fs::path& root) {
  static const std::regex id_re("intel-rapl:([0-9]+)(:[0-9]+)?");
  std::map<std::string, ZoneDir> found;
  auto visit = [&](const fs::path& dir, auto& self, int depth) -> void {
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string id = it->path().filename().string();
      std::smatch m;
      if (!std::regex_match(id, m, id_re)) continue;
      if (!found.count(id)) found[id] = ZoneDir{id, it->path(), std::stoi(m[1].str()), !m[2].matched};
      if (depth == 0) self(it->path(), self, 1);
    }
  };
  visit(root, visit, 0);
  std::vector<ZoneDir> zones;
  for (auto& [id, z] : found) zones.push_back(z);
  return zones;
}

class RaplZone : public Source {
 public:
  RaplZone(ZoneDir zone, std::string component, uint64_t first, uint64_t max_range)
      : zone_(std::move(zone)),
        component_(std::move(component)),
        counter_path_((zone_.path / "energy_uj").string()),
        last_(first),
        max_range_(max_range) {}

  void sample(double seconds, bool full) override {
    uint64_t now = 0;
    std::string error;
    if (!read_counter(counter_path_, now, error)) {
      // The interval is merged into the next one; only a failure at the very end is reported.
      last_error_ = error;
      merged_ = true;
      return;
    }
    last_error_.clear();
    if (now < last_) ++wraps_;
    track_.add(seconds - last_seconds_, static_cast<double>(counter_delta(last_, now, max_range_)) * 1e-6,
               full && !merged_);
    merged_ = false;
    last_ = now;
    last_seconds_ = seconds;
  }

  std::optional<Component> finish(double wall_seconds, std::vector<std::string>& notes) override {
    if (!last_error_.empty())
      notes.push_back("RAPL " + zone_.id + " energy_uj unreadable at the end of the scope (" + last_error_ +
                      "): its energy is counted up to the last good reading");
    std::string method = "RAPL counter " + zone_.id + " energy_uj (whole socket: every process on it counts)";
    if (wraps_ > 0)
      method += ", " + std::to_string(wraps_) + " wrap(s) at max_energy_range_uj " + std::to_string(max_range_) +
                " added back";
    return track_.component(component_, method, wall_seconds);
  }

 private:
  ZoneDir zone_;
  std::string component_;
  std::string counter_path_;
  uint64_t last_;
  uint64_t max_range_;
  double last_seconds_ = 0;
  int wraps_ = 0;
  bool merged_ = false;
  std::string last_error_;
  EnergyTrack track_;
};

enum class Kind { Package, Dram };

}  // namespace

uint64_t counter_delta(uint64_t previous, uint64_t current, uint64_t max_range) {
  if (current >= previous) return current - previous;
  return current + (max_range - previous) + 1;
}

RaplDiscovery discover_rapl(const std::string& powercap_root) {
  RaplDiscovery d;
  std::error_code ec;
  if (!fs::is_directory(powercap_root, ec)) {
    d.notes.push_back("RAPL not used: " + powercap_root + " absent");
    return d;
  }
  const auto zones = list_zones(powercap_root);
  if (zones.empty()) {
    d.notes.push_back("RAPL not used: no intel-rapl zones under " + powercap_root);
    return d;
  }
  struct Candidate {
    ZoneDir zone;
    Kind kind;
    std::string component;
  };
  std::vector<Candidate> candidates;
  for (const auto& z : zones) {
    std::string name, error;
    if (!read_small_file((z.path / "name").string(), name, error)) {
      d.notes.push_back("RAPL zone " + z.id + " skipped: its name is not readable (" + error + ")");
      continue;
    }
    const std::string n = std::to_string(z.package);
    if (z.top && name.rfind("package", 0) == 0) candidates.push_back({z, Kind::Package, "package-" + n});
    else if (name == "dram") candidates.push_back({z, Kind::Dram, "dram-" + n});
    else if (z.top && name == "psys")
      d.notes.push_back("RAPL zone " + z.id + " (psys) not added: it covers the whole platform, package and DRAM included");
  }
  std::vector<std::unique_ptr<Source>> package, dram;
  bool package_failed = false, dram_failed = false;
  for (auto& c : candidates) {
    uint64_t first = 0, max_range = 0;
    std::string error;
    const bool ok = read_counter((c.zone.path / "max_energy_range_uj").string(), max_range, error) &&
                    read_counter((c.zone.path / "energy_uj").string(), first, error);
    if (!ok) {
      d.notes.push_back("RAPL zone " + c.zone.id + " (" + c.component + ") not readable: " + error +
                        (error == std::strerror(EACCES) ? " (energy_uj is root-only on many kernels)" : ""));
      (c.kind == Kind::Package ? package_failed : dram_failed) = true;
      continue;
    }
    auto zone = std::make_unique<RaplZone>(c.zone, c.component, first, max_range);
    (c.kind == Kind::Package ? package : dram).push_back(std::move(zone));
  }
  // A socket left out would make the figure look complete while it is not: all or nothing.
  d.package = !package.empty() && !package_failed;
  d.dram = !dram.empty() && !dram_failed;
  if (d.package)
    for (auto& s : package) d.sources.push_back(std::move(s));
  else if (!package_failed)
    d.notes.push_back("RAPL not used: no package zone under " + powercap_root);
  if (d.dram)
    for (auto& s : dram) d.sources.push_back(std::move(s));
  return d;
}

}  // namespace subset::energy::internal
