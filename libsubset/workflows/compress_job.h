#pragma once
// `subset compress` as one library call: fit a transform (registry.h) on a store's /features, or
// load a saved one, apply it to /features and /test/features, and write the result as a store
// (labels, weights, class names and test split kept; image_shape dropped) that records the
// transform, with an optional model file (io/model_file.h) for applying it again later.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <string>

#include "libsubset/core/matrix.h"
#include "libsubset/io/model_file.h"
#include "libsubset/io/store.h"
#include "libsubset/transform/registry.h"

namespace subset::workflows {

struct CompressJob {
  std::string store;
  // Fitting: the method, its parameters as text (validated by its schema), the target and the seed.
  std::string method;
  std::map<std::string, std::string> params;
  transform::Target target;
  uint64_t seed = 0;
  // Applying instead: a model file written by --model-out (then method, params and target stay empty).
  std::optional<std::string> apply_model;
  std::string output;
  std::optional<std::string> model_out;  // fitting only
  bool force = false;
  std::function<void(const std::string&)> status;  // progress lines; may be empty
  ProgressFn progress;  // the fit's counted progress (the autoencoder's epochs); may be empty
  // When set, called once all work is done; its text (the energy report, JSON) is recorded in the
  // output store and the model file (attribute "energy").
  std::function<std::string()> energy_report;
  // Extra root attributes of the output store (name -> text), e.g. `subset embed`'s provenance.
  std::map<std::string, std::string> root_attributes;
  // The command recorded as the outputs' creator ("libsubset 0.1.0 (subset compress)").
  std::string command = "subset compress";
  // Bytes the whole process may use (--memory-limit; unset: what the machine has available). PCA
  // and the projections stream the store in fixed blocks whatever the limit (their output must
  // not depend on it); the job fails before any work when the blocks and the model do not fit,
  // or when a method that trains in memory (the autoencoder) would not.
  std::optional<double> memory_limit;
};

struct CompressOutcome {
  std::string method;
  nlohmann::json params;
  uint64_t seed = 0;
  int64_t input_dim = 0, output_dim = 0;
  int64_t n = 0, test_n = 0;
  // The fit's figures (e.g. explained_variance_ratio, epoch_mse), plus, for transforms that
  // reconstruct: train_mse, test_mse and the mean predictor's train_baseline_mse, test_baseline_mse.
  nlohmann::json stats;
  double fit_seconds = 0;    // 0 when a saved model was applied
  double apply_seconds = 0;  // transforming both splits and writing them
  double write_seconds = 0;  // then the model file (--model-out) and completing the output store
  io::StoreInfo output;
  nlohmann::json energy = nullptr;
};

// Validates everything before any work (method, parameters, target against the store's N and D,
// a model file and its input dimension, output paths), then fits or loads, applies and writes.
// Throws Error on the first problem; nothing is written then.
//
// On several ranks (world(), mpirun) every rank calls it: a fit that splits its passes (pca) is
// shared, each rank reading its own blocks, and gives one process's model; rank 0 alone fits any
// other method, checks the outputs, applies and writes. With energy_report, every rank's report is
// summed into the recorded one (stats: "ranks", "energy_by_rank"), so the other ranks wait for
// rank 0 to end; they return an outcome without output (output.path empty).
CompressOutcome run_compress(const CompressJob& job);

// Whether the job's method (or its model file's method) needs libtorch (the autoencoder): the CLI
// then loads libsubset_workflows_nn first. False when it cannot tell (run_compress reports why).
bool compress_needs_torch(const CompressJob& job);

nlohmann::json to_json(const CompressOutcome& outcome);

// ---- The same on rows in memory (the Python estimators: libsubset.PCA(...).fit(X)) -------------

// A fit on an N x D matrix in memory instead of a store's /features (fit_array). The method, its parameters
// (text, validated by its schema), the target and the seed mean what they mean in CompressJob, and
// the rows are streamed to the fit in the blocks run_compress uses (64 MiB of rows): a store
// holding the same rows in one such block gives the same model, bit for bit.
struct ArrayFitJob {
  std::string source = "<array>";  // what the rows are, for the model file
  std::string method;
  std::map<std::string, std::string> params;
  transform::Target target;
  uint64_t seed = 0;
  std::function<void(const std::string&)> status;  // progress lines; may be empty
};

struct ArrayFitOutcome {
  std::unique_ptr<transform::Transform> transform;
  // What `subset compress --model-out` would write for these rows: the fitted state, its stats
  // completed as run_compress completes them (fit_seconds; train_mse and train_baseline_mse for
  // transforms that reconstruct), the seed, `source` and the rows' checksum.
  io::ModelFile model;
};

// Fits on `features` (N x D, row-major float32, read in place). Validates as run_compress does
// (method, parameters, target against N and D), refuses NaN and Inf (ParamError naming "X"), then
// fits. Interruptible between blocks.
ArrayFitOutcome fit_array(const ArrayFitJob& job, MatrixViewF features);

// A fitted transform's codes of `rows` (n x input_dim -> n x output_dim), in the blocks
// run_compress applies in (16 MiB of rows). ParamError naming `name` when the rows have another
// number of features or hold NaN or Inf.
RowMatrixF apply_array(const transform::Transform& t, MatrixViewF rows, const std::string& name);
// The reconstruction of codes (n x output_dim -> n x input_dim); Error when the transform has no
// decoder, ParamError naming `name` for codes of another width or holding NaN or Inf.
RowMatrixF reconstruct_array(const transform::Transform& t, MatrixViewF codes, const std::string& name);

}  // namespace subset::workflows
