#include <memory>

#include "libsubset/mpi/parallel_rows.h"
#include "libsubset/workflows/parallel_reader.h"

namespace subset::workflows {

select::RowBlocks::Reader open_parallel_reader(const std::string& path, const std::string& dataset) {
  auto rows = std::make_shared<mpi::ParallelRows>(path, dataset);
  return [rows](int64_t first, int64_t count, float* out) { rows->read(first, count, out); };
}

}  // namespace subset::workflows
