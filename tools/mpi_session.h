#pragma once
// MPI for the life of the `subset` process when it is built with SUBSET_WITH_MPI
// (mpi_session_mpi.cpp: MPI_COMM_WORLD becomes world()), nothing otherwise (mpi_session_serial.cpp).
#include <memory>

namespace subset::cli {

// Ends MPI when the returned handle is destroyed; empty without MPI.
std::shared_ptr<void> start_mpi(int& argc, char**& argv);

}  // namespace subset::cli
