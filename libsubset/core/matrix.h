#pragma once
// Feature matrices are row-major float32 (one row per data point), matching the HDF5 store layout,
// so a block read from disk is usable without a copy or transpose.
#include <Eigen/Core>
#include <cstdint>

namespace subset {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatrixViewF = Eigen::Map<const RowMatrixF>;
using MutableMatrixViewF = Eigen::Map<RowMatrixF>;

inline MatrixViewF view(const float* data, int64_t rows, int64_t cols) {
  return MatrixViewF(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
inline MatrixViewF view(const RowMatrixF& m) { return MatrixViewF(m.data(), m.rows(), m.cols()); }

// Index of the first NaN or +-Inf among n floats, or -1. Tests the exponent bits in blocks so the
// common all-finite case vectorises and runs at memory speed.
int64_t find_non_finite(const float* data, size_t n);

}  // namespace subset
