#pragma once
// The reader a selection spread over ranks gives its RowBlocks: each rank reads its own rows of a
// store's feature dataset with parallel HDF5. Built with SUBSET_WITH_MPI it opens the file through
// libsubset/mpi (parallel_reader_mpi.cpp); without it there are never several ranks, and asking
// is an error (parallel_reader_serial.cpp).
#include <string>

#include "libsubset/select/row_blocks.h"

namespace subset::workflows {

// Collective: every rank opens the file. The reader keeps it open for as long as it lives.
select::RowBlocks::Reader open_parallel_reader(const std::string& path, const std::string& dataset);

}  // namespace subset::workflows
