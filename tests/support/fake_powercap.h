#pragma once
// A powercap tree laid out as the kernel does it, in a directory of the test's choosing: each zone's
// directory nested under its parent in <root>/intel-rapl/, and a link <root>/<id> to it (what
// /sys/class/powercap shows). Counter values are written to a temporary file and renamed into place,
// so the meter's sampler never reads a half-written value.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace subset::test {

class FakePowercap {
 public:
  explicit FakePowercap(std::filesystem::path root) : root_(std::move(root)) {
    std::filesystem::create_directories(root_ / "intel-rapl");
  }

  const std::filesystem::path& root() const { return root_; }

  // `id`: "intel-rapl:0" (a top-level zone) or "intel-rapl:0:2" (a subzone of intel-rapl:0).
  void add_zone(const std::string& id, const std::string& name, uint64_t energy_uj, uint64_t max_energy_range_uj) {
    const auto dir = zone_dir(id);
    std::filesystem::create_directories(dir);
    write(dir / "name", name);
    write(dir / "max_energy_range_uj", std::to_string(max_energy_range_uj));
    set_energy(id, energy_uj);
    std::filesystem::create_directory_symlink(dir, root_ / id);
  }

  // Typical ranges: 2^32 units of 61 uJ for a package, of 15.3 uJ for DRAM.
  static constexpr uint64_t kPackageRange = 262143328850ULL;
  static constexpr uint64_t kDramRange = 65712999613ULL;

  // intel-rapl:N named package-N.
  void add_package(int n, uint64_t energy_uj) {
    add_zone("intel-rapl:" + std::to_string(n), "package-" + std::to_string(n), energy_uj, kPackageRange);
  }
  // intel-rapl:N:M named dram.
  void add_dram(int n, int m, uint64_t energy_uj) {
    add_zone("intel-rapl:" + std::to_string(n) + ":" + std::to_string(m), "dram", energy_uj, kDramRange);
  }

  void set_energy(const std::string& id, uint64_t energy_uj) const {
    const auto dir = zone_dir(id);
    write(dir / "energy_uj.tmp", std::to_string(energy_uj));
    std::filesystem::rename(dir / "energy_uj.tmp", dir / "energy_uj");
  }

  std::filesystem::path zone_dir(const std::string& id) const {
    const auto last = id.rfind(':');
    const bool sub = last != id.find(':');
    return sub ? root_ / "intel-rapl" / id.substr(0, last) / id : root_ / "intel-rapl" / id;
  }

 private:
  static void write(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::trunc);
    out << text << "\n";
    if (!out) throw std::runtime_error("cannot write " + path.string());
  }

  std::filesystem::path root_;
};

}  // namespace subset::test
