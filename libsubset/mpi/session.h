#pragma once
// MPI for the `subset` binary built with SUBSET_WITH_MPI: initialise MPI for the life of the
// process and make MPI_COMM_WORLD the world() communicator (core/communicator.h). Launched
// without mpirun, the process is a world of one and runs as any other build does.
#include "libsubset/core/communicator.h"

namespace subset::mpi {

class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  const Communicator& world() const;
};

}  // namespace subset::mpi
