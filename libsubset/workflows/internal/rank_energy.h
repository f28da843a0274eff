#pragma once
// The energy of a job spread over ranks (mpirun): every rank meters its own process, and the job's
// report is the sum of theirs. Shared by `subset select` and `subset compress`.
#include <nlohmann/json.hpp>

#include "libsubset/core/communicator.h"
#include "libsubset/energy/report.h"

namespace subset::workflows::internal {

// Collective: every rank's report summed rank by rank (the accounting of rank 0's kept), the same
// on every rank; each rank's report is kept in `stats` as "energy_by_rank", in rank order.
energy::EnergyReport sum_rank_reports(const Communicator& comm, const energy::EnergyReport& mine, nlohmann::json& stats);

}  // namespace subset::workflows::internal
