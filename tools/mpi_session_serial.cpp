#include "tools/mpi_session.h"

namespace subset::cli {

std::shared_ptr<void> start_mpi(int&, char**&) { return nullptr; }

}  // namespace subset::cli
