#include "libsubset/mpi/parallel_rows.h"

#include <hdf5.h>
#include <mpi.h>

#include <algorithm>

#include "libsubset/core/error.h"

namespace subset::mpi {

struct ParallelRows::Handles {
  hid_t access = H5I_INVALID_HID, file = H5I_INVALID_HID, dataset = H5I_INVALID_HID, space = H5I_INVALID_HID,
        transfer = H5I_INVALID_HID;
  hsize_t rows = 0, columns = 0;
  ~Handles() {
    if (transfer >= 0) H5Pclose(transfer);
    if (space >= 0) H5Sclose(space);
    if (dataset >= 0) H5Dclose(dataset);
    if (file >= 0) H5Fclose(file);
    if (access >= 0) H5Pclose(access);
  }
};

ParallelRows::ParallelRows(const std::string& path, const std::string& dataset) : handles_(std::make_unique<Handles>()) {
  Handles& h = *handles_;
  h.access = H5Pcreate(H5P_FILE_ACCESS);
  SUBSET_CHECK(h.access >= 0 && H5Pset_fapl_mpio(h.access, MPI_COMM_WORLD, MPI_INFO_NULL) >= 0, path,
               "cannot set up parallel HDF5 (MPI-IO) access");
  // The store was opened and checked already by the serial path; a failure here is the MPI-IO layer's.
  h.file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, h.access);
  SUBSET_CHECK(h.file >= 0, path, "cannot open with parallel HDF5 (MPI-IO)");
  h.dataset = H5Dopen2(h.file, dataset.c_str(), H5P_DEFAULT);
  SUBSET_CHECK(h.dataset >= 0, path, "cannot open " << dataset << " with parallel HDF5");
  h.space = H5Dget_space(h.dataset);
  hsize_t dims[2] = {0, 0};
  SUBSET_CHECK(h.space >= 0 && H5Sget_simple_extent_ndims(h.space) == 2 && H5Sget_simple_extent_dims(h.space, dims, nullptr) == 2,
               path, dataset << " is not a 2-D dataset");
  h.rows = dims[0];
  h.columns = dims[1];
  h.transfer = H5Pcreate(H5P_DATASET_XFER);
  SUBSET_CHECK(h.transfer >= 0 && H5Pset_dxpl_mpio(h.transfer, H5FD_MPIO_INDEPENDENT) >= 0, path,
               "cannot set up independent parallel reads");
}

ParallelRows::~ParallelRows() = default;

void ParallelRows::read(int64_t first, int64_t count, float* out) const {
  const Handles& h = *handles_;
  SUBSET_CHECK(first >= 0 && count >= 0 && static_cast<hsize_t>(first + count) <= h.rows, "parallel HDF5",
               "rows " << first << " to " << first + count << " of " << h.rows);
  // Pieces of at most 64 MiB: MPI-IO counts a read's bytes in an int.
  const auto row_floats = static_cast<int64_t>(h.columns);
  const int64_t piece = std::max<int64_t>(1, (int64_t{64} << 20) / (std::max<int64_t>(1, row_floats) * 4));
  for (int64_t done = 0; done < count; done += piece)
    read_piece(first + done, std::min(piece, count - done), out + done * row_floats);
}

void ParallelRows::read_piece(int64_t first, int64_t count, float* out) const {
  const Handles& h = *handles_;
  const hsize_t start[2] = {static_cast<hsize_t>(first), 0};
  const hsize_t extent[2] = {static_cast<hsize_t>(count), h.columns};
  const hid_t file_space = H5Scopy(h.space);
  const hid_t memory_space = H5Screate_simple(2, extent, nullptr);
  const bool ok = file_space >= 0 && memory_space >= 0 &&
                  H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, nullptr, extent, nullptr) >= 0 &&
                  H5Dread(h.dataset, H5T_NATIVE_FLOAT, memory_space, file_space, h.transfer, out) >= 0;
  if (memory_space >= 0) H5Sclose(memory_space);
  if (file_space >= 0) H5Sclose(file_space);
  SUBSET_CHECK(ok, "parallel HDF5", "cannot read rows " << first << " to " << first + count);
}

}  // namespace subset::mpi
