#pragma once
// `subset extract` and `subset info --check-values` on the ranks of world() (mpirun): the passes
// over a store's rows are shared among the ranks (io/rank_rows.h), each reading its own rows with
// parallel HDF5 (parallel_reader.h), and the result is the one-process result. Alone, each is the
// plain io call.
#include <optional>
#include <string>

#include "libsubset/io/describe_file.h"
#include "libsubset/io/extract.h"
#include "libsubset/io/rank_rows.h"

namespace subset::workflows {

// world() and, on several ranks, parallel HDF5 reads.
io::RankReads world_reads();

// io::extract_selection on world()'s ranks; every rank calls it. With out.write.energy_report,
// the recorded report is the sum of every rank's (each taken when its part is done, rank 0's when
// it commits). Ranks other than 0 write nothing and return a StoreInfo with an empty path.
io::StoreInfo extract_on_ranks(const std::string& store_path, const std::string& selection_path, io::OutputOptions out,
                               const std::optional<double>& memory_limit);

// io::describe_file on world()'s ranks; every rank calls it. Only a value check reads a store's
// rows, so only with check_values do the ranks share the work (and all get the description);
// otherwise rank 0 describes alone and the others get nullopt at once.
std::optional<io::FileDescription> describe_on_ranks(const std::string& path, io::DescribeOptions options);

}  // namespace subset::workflows
