#pragma once
// Rows of a store's feature dataset read with parallel HDF5 (the MPI-IO driver): every rank opens
// the file together and then reads its own hyperslabs, independently of the others.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace subset::mpi {

class ParallelRows {
 public:
  // Collective: every rank of world() opens `path` and its 2-D float32 dataset `dataset`.
  ParallelRows(const std::string& path, const std::string& dataset);
  ~ParallelRows();
  ParallelRows(const ParallelRows&) = delete;
  ParallelRows& operator=(const ParallelRows&) = delete;
  // Not collective: rows [first, first + count) into out (count x columns floats).
  // Any count: large reads go in pieces.
  void read(int64_t first, int64_t count, float* out) const;

 private:
  void read_piece(int64_t first, int64_t count, float* out) const;
  struct Handles;
  std::unique_ptr<Handles> handles_;
};

}  // namespace subset::mpi
