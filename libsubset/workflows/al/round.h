#pragma once
// One active-learning round, shared by `al query` (rows from the features store on disk) and
// `al simulate` (rows in memory): train the proxy on the labelled rows, measure it on the test
// split, score the candidates block by block, pick a batch with the strategy. This header includes
// no libtorch; run_round lives in libsubset_workflows_nn.
//
// Memory: the candidates' features pass through in blocks of `block_rows`; what is kept for all m
// candidates is what the strategy needs: one score each (entropy, margin, least-confidence, bald),
// probabilities and embeddings (badge: m x (classes + hidden) floats), embeddings of candidates and
// labelled rows (coreset), features of candidates and labelled rows (typiclust). Use --candidates
// to bound the last three on a large pool.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/train_settings.h"
#include "libsubset/energy/meter.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/al/ledger.h"
#include "libsubset/workflows/al/settings.h"

namespace subset::workflows::al {

// Rows of a features matrix handed out in blocks.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual int64_t rows() const = 0;
  virtual int64_t dim() const = 0;
  // Calls fn(first, x, count) for the given rows (ascending, unique, in range) in their order, at
  // most `block` at a time: x holds rows[first, first + count), count x dim floats.
  virtual void gather(const std::vector<int64_t>& rows, int64_t block,
                      const std::function<void(int64_t, const float*, int64_t)>& fn) const = 0;
};

// A store's array, streamed (FeatureArray::for_each_block): memory is one read block plus `block` rows.
class StoreRows : public RowSource {
 public:
  explicit StoreRows(io::FeatureArray array) : array_(std::move(array)) {}
  int64_t rows() const override { return array_.rows(); }
  int64_t dim() const override { return array_.cols(); }
  void gather(const std::vector<int64_t>& rows, int64_t block,
              const std::function<void(int64_t, const float*, int64_t)>& fn) const override;

 private:
  io::FeatureArray array_;
};

// A row-major matrix in memory (not owned).
class MemoryRows : public RowSource {
 public:
  MemoryRows(const float* data, int64_t n, int64_t dim) : data_(data), n_(n), dim_(dim) {}
  int64_t rows() const override { return n_; }
  int64_t dim() const override { return dim_; }
  void gather(const std::vector<int64_t>& rows, int64_t block,
              const std::function<void(int64_t, const float*, int64_t)>& fn) const override;

 private:
  const float* data_;
  int64_t n_, dim_;
};

struct RoundData {
  const RowSource* pool = nullptr;
  std::vector<int64_t> labelled_rows;  // ascending
  std::vector<int64_t> labels;         // of each labelled row
  std::vector<int64_t> candidates;     // ascending, none labelled
  int64_t num_classes = 0;
  const RowSource* test = nullptr;     // the test split, or null
  const std::vector<int64_t>* test_labels = nullptr;  // its labels, or null (no accuracy then)
};

struct RoundSettings {
  std::string strategy = "entropy";
  StrategyOptions options;             // candidates is the caller's to apply
  TrainSettings proxy;                 // its seed is replaced by one derived from `seed`
  uint64_t seed = 0;                   // every draw of the round (proxy, strategy, dropout)
  bool measure_accuracy = true;        // train a proxy for the test accuracy even when the strategy needs none
  bool train_only = false;             // train and measure the proxy, pick nothing (candidates may be empty)
  int64_t block_rows = 4096;
  std::optional<energy::MeterOptions> meter;  // unset: MeterOptions::from_environment({})
  std::function<void(const std::string&)> status;  // progress lines; may be empty
};

struct RoundResult {
  std::vector<int64_t> rows;     // pool rows, in pick order
  std::vector<float> scores;
  bool proxy_trained = false;
  std::optional<double> test_accuracy;
  PhaseCost training, scoring, selection;  // training includes the test-split measurement
};

// The rows a round scores, ascending, out of `open` (ascending pool rows, neither labelled nor
// pending): all of them unless options.candidates = N is below |open|; then N of them drawn at
// random from Rng(seed) (candidates_by "random"), or (candidates_by "neighbours", SEALS: Coleman et
// al. 2022) the union of each labelled row's ceil(N / labelled) nearest open rows in `pool`
// (select/nearest_rows.h), at most N, fewer where neighbourhoods overlap; the open rows stream
// through in blocks of `block_rows`. Throws ParamError ("candidates-by") for neighbours with no
// labelled row.
std::vector<int64_t> choose_candidates(const RowSource& pool, const std::vector<int64_t>& labelled_rows,
                                       std::vector<int64_t> open, const StrategyOptions& options, uint64_t seed,
                                       int64_t block_rows = 4096);

// Throws ParamError for an unknown strategy, a batch < 1, and a strategy that needs a proxy when
// nothing is labelled; Error when there are no candidates.
RoundResult run_round(const RoundData& data, const RoundSettings& settings);

}  // namespace subset::workflows::al
