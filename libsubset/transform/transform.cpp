#include "libsubset/transform/transform.h"

#include <algorithm>

#include "libsubset/core/error.h"

namespace subset::transform {

RowSource rows_of(MatrixViewF matrix, int64_t block_rows) {
  SUBSET_CHECK(block_rows > 0, "rows_of", "block size must be positive, got " << block_rows);
  RowSource s;
  s.rows = matrix.rows();
  s.dim = matrix.cols();
  s.blocks = (s.rows + block_rows - 1) / block_rows;
  s.for_blocks = [matrix, block_rows](int64_t first, int64_t end, const RowSource::BlockFn& fn) {
    for (int64_t b = first; b < end; ++b) {
      const int64_t begin = b * block_rows;
      const int64_t count = std::min(block_rows, static_cast<int64_t>(matrix.rows()) - begin);
      fn(begin, view(matrix.data() + begin * matrix.cols(), count, matrix.cols()));
    }
  };
  return s;
}

RowMatrixF read_all(const RowSource& source) {
  RowMatrixF all(source.rows, source.dim);
  source.for_each_block([&](int64_t first, MatrixViewF block) { all.middleRows(first, block.rows()) = block; });
  return all;
}

RowMatrixF Transform::apply(MatrixViewF rows) const {
  RowMatrixF out(rows.rows(), output_dim());
  apply(rows, out.data());
  return out;
}

void Transform::reconstruct(MatrixViewF, float*) const {
  SUBSET_FAIL(std::string(name()), "has no decoder: it cannot reconstruct its input");
}

}  // namespace subset::transform
