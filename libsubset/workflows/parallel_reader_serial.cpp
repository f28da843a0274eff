#include "libsubset/core/error.h"
#include "libsubset/workflows/parallel_reader.h"

namespace subset::workflows {

select::RowBlocks::Reader open_parallel_reader(const std::string& path, const std::string&) {
  throw Error("this subset was built without MPI (SUBSET_WITH_MPI): it cannot read on several ranks", path);
}

}  // namespace subset::workflows
