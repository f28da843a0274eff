#include "libsubset/workflows/store_passes.h"

#include <nlohmann/json.hpp>

#include "libsubset/core/communicator.h"
#include "libsubset/energy/report.h"
#include "libsubset/workflows/internal/rank_energy.h"
#include "libsubset/workflows/parallel_reader.h"

namespace subset::workflows {
namespace {

energy::EnergyReport summed(const Communicator& comm, const std::string& mine) {
  nlohmann::json unused_stats;  // a store records the report alone
  return internal::sum_rank_reports(comm, energy::report_from_json(nlohmann::json::parse(mine)), unused_stats);
}

}  // namespace

io::RankReads world_reads() {
  io::RankReads reads;
  reads.comm = &world();
  if (world().distributed())
    reads.open = [](const std::string& path, const std::string& dataset) { return open_parallel_reader(path, dataset); };
  return reads;
}

io::StoreInfo extract_on_ranks(const std::string& store_path, const std::string& selection_path, io::OutputOptions out,
                               const std::optional<double>& memory_limit) {
  const Communicator& comm = world();
  if (!comm.distributed()) return io::extract_selection(store_path, selection_path, out, memory_limit);
  const std::function<std::string()> mine = out.write.energy_report;
  // Rank 0's writer asks for the report at commit, when the other ranks, done, wait in the sum.
  if (mine && comm.rank() == 0)
    out.write.energy_report = [mine, &comm] { return energy::to_json(summed(comm, mine())).dump(); };
  io::StoreInfo info = io::extract_selection(store_path, selection_path, out, memory_limit, world_reads());
  if (mine && comm.rank() != 0) summed(comm, mine());
  return info;
}

std::optional<io::FileDescription> describe_on_ranks(const std::string& path, io::DescribeOptions options) {
  const Communicator& comm = world();
  if (!comm.distributed()) return io::describe_file(path, options);
  if (!options.check_values) {
    if (comm.rank() != 0) return std::nullopt;
    return io::describe_file(path, options);
  }
  options.ranks = world_reads();
  return io::describe_file(path, options);
}

}  // namespace subset::workflows
