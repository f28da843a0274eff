#pragma once
// The Selector interface every instance-selection method implements, and what it takes and
// returns. Methods live one per file and are listed in registry.cpp.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/matrix.h"
#include "libsubset/select/row_blocks.h"

namespace subset::select {

struct Selection {
  std::vector<int64_t> indices;  // unique, in [0, n), in the order they were picked
  std::vector<float> weights;    // empty, or one per index: how many points each stands for
  std::vector<float> scores;     // empty, or one per index: the score that ranked it
  // Empty, or one row per index: a synthetic point the pick stands in for (kmeans: its centroid),
  // which is not itself a data point.
  RowMatrixF centroids;
  nlohmann::json stats = nlohmann::json::object();  // method figures, e.g. {"covering_radius": 9.17}
};

struct SelectionRequest {
  int64_t n = 0;                          // number of points
  const float* features = nullptr;        // n x dim, row-major; required by geometric methods
  int64_t dim = 0;
  // The features left on disk instead (features == null, dim set): only for the methods whose
  // MethodSpec::streams is set, which then read them block by block (row_blocks.h).
  const RowBlocks* on_disk = nullptr;
  // On several ranks (mpirun), for the methods that train a proxy on the features
  // (MethodSpec::trains_on_shares): this rank's share of the rows in memory, share.rows x dim at
  // share_features (features and on_disk null; n is every rank's rows).
  const float* share_features = nullptr;
  RowShare share;
  const std::vector<int64_t>* labels = nullptr;  // n labels; required by class-aware methods
  int64_t num_classes = 0;                // classes 0..num_classes-1 (0: 1 + the largest label)
  int64_t budget = 0;                     // points to add, not counting already_selected
  std::vector<int64_t> already_selected;  // chosen earlier: never returned again, and taken into
                                          // account (k-center covers from them, herding matches
                                          // the mean with them included)
  // n precomputed scores for the methods that rank points by one (importance.h), or null: such a
  // method then scores the points itself. select_per_class passes each class its slice.
  const std::vector<float>* scores = nullptr;
  bool has_features() const { return features != nullptr; }
  bool streamed() const { return features == nullptr && on_disk != nullptr; }
  bool shared() const { return features == nullptr && share_features != nullptr; }
  MatrixViewF feature_view() const { return view(features, n, dim); }
};

struct RunContext {
  uint64_t seed = 0;
  // Reports (done, total) units of work; may be empty. Called from the calling thread only.
  std::function<void(int64_t, int64_t)> progress;
  void report(int64_t done, int64_t total) const {
    if (progress) progress(done, total);
  }
};

class Selector {
 public:
  virtual ~Selector() = default;
  virtual std::string_view name() const = 0;
  // Requests reach select() already validated (validate_request in registry.h): budget in range,
  // already_selected unique and in range, features/labels present when the method needs them.
  virtual Selection select(const SelectionRequest& request, const RunContext& context) const = 0;
  // Methods that rank points by a per-point score computed over the whole request (the importance
  // methods: a proxy model trained on all labelled points) return it here, n values; others
  // return nothing. select_per_class scores once, over all classes, then selects within each.
  virtual std::vector<float> score(const SelectionRequest&, const RunContext&) const { return {}; }
};

}  // namespace subset::select
