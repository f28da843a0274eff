#pragma once
// Compression of data points (docs/methods/compression.md): a Transform maps rows of D features to
// rows of K < D. It is fitted once (on a training split), then applied anywhere: to the test
// split, to new data, in another process after save / load. Random projections, PCA and (through
// a provider in libsubset/nn) the autoencoder implement it; the registry (registry.h) creates them.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "libsubset/core/communicator.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/progress.h"
#include "libsubset/core/model_state.h"

namespace subset::transform {

// The rows a transform is fitted on, streamed in `blocks` consecutive blocks that cover all `rows`
// in order: for_blocks(first, end, fn) calls fn(first_row, block) for blocks [first, end), in
// order. A fit may stream the rows more than once (PCA's randomized solver does), so memory stays
// one block whatever the number of rows.
//
// A fit that splits its passes over ranks (MethodSpec::distributes: pca) reduces through `comm`:
// on several ranks every rank fits, on a source of the same rows cut into the same blocks, reads
// only the blocks it owns, and ends with the model one process fits. Other fits ignore it.
struct RowSource {
  using BlockFn = std::function<void(int64_t, MatrixViewF)>;
  int64_t rows = 0;
  int64_t dim = 0;
  int64_t blocks = 0;
  std::function<void(int64_t, int64_t, const BlockFn&)> for_blocks;
  const Communicator* comm = &single_process();

  // Every block, in order.
  void for_each_block(const BlockFn& fn) const { for_blocks(0, blocks, fn); }
};

// A source over a matrix in memory, in blocks of `block_rows`.
RowSource rows_of(MatrixViewF matrix, int64_t block_rows = 8192);
// All rows of a source in one matrix (fits that need random access: the autoencoder).
RowMatrixF read_all(const RowSource& source);

struct FitOptions {
  int64_t dim = 0;                 // K; 0 when `variance` chooses it (pca)
  std::optional<double> variance;  // pca: keep the fewest components explaining this fraction
  uint64_t seed = 0;               // every random choice of the fit
  std::function<void(const std::string&)> status;  // progress lines (e.g. per epoch); may be empty
  ProgressFn progress;  // the fit's progress where it is counted (the autoencoder's epochs); may be empty
};

class Transform {
 public:
  virtual ~Transform() = default;
  virtual std::string_view name() const = 0;
  // D and K; 0 until fitted or loaded.
  virtual int64_t input_dim() const = 0;
  virtual int64_t output_dim() const = 0;

  // Fits on `rows` (rows.dim = D). Options are assumed valid (registry.h's plan_fit checks them).
  virtual void fit(const RowSource& rows, const FitOptions& options) = 0;
  // Maps `rows` (n x input_dim) to out (n x output_dim, row-major). Deterministic: the same rows
  // give the same bits at any thread count, whether the transform was fitted here or loaded.
  virtual void apply(MatrixViewF rows, float* out) const = 0;
  RowMatrixF apply(MatrixViewF rows) const;

  // Transforms with a decoder (pca, autoencoder) map codes (n x output_dim) back to the input space
  // (n x input_dim); the mean squared difference to the input is the reconstruction error.
  virtual bool can_reconstruct() const { return false; }
  virtual void reconstruct(MatrixViewF codes, float* out) const;

  // The fitted transform as plain data (method, dims, params, stats, arrays). load() of it, into a
  // transform made with the same params, gives one whose apply() returns the same bits: a fitted
  // transform applies itself through the very arrays it saves.
  virtual ModelState save() const = 0;
  // Restores a state saved by this method; throws Error naming `where` when its arrays are
  // missing or do not match its dimensions. (registry.h's load() makes the transform and calls it.)
  virtual void load(const ModelState& state, const std::string& where) = 0;
};

}  // namespace subset::transform
