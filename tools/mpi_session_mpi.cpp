#include "libsubset/mpi/session.h"
#include "tools/mpi_session.h"

namespace subset::cli {

std::shared_ptr<void> start_mpi(int& argc, char**& argv) { return std::make_shared<mpi::Session>(argc, argv); }

}  // namespace subset::cli
