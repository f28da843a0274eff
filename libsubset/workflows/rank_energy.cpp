#include "libsubset/workflows/internal/rank_energy.h"

#include <optional>
#include <string>
#include <vector>

namespace subset::workflows::internal {

energy::EnergyReport sum_rank_reports(const Communicator& comm, const energy::EnergyReport& mine, nlohmann::json& stats) {
  const std::vector<std::string> reports = gather_strings(comm, energy::to_json(mine).dump());
  nlohmann::json by_rank = nlohmann::json::array();
  std::optional<energy::EnergyReport> total;
  for (const std::string& text : reports) {
    by_rank.push_back(nlohmann::json::parse(text));
    const energy::EnergyReport report = energy::report_from_json(by_rank.back());
    total = total ? energy::add_reports(*total, report) : report;
  }
  stats["energy_by_rank"] = std::move(by_rank);
  return *total;
}

}  // namespace subset::workflows::internal
