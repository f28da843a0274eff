#pragma once
// Lloyd's iterations, split so that k-means on features in memory and on features left on disk
// (kmeans_streamed.cpp) compute the same bits: LloydCore holds the per-point state and does the
// work of one sgemm block of rows, whoever supplies the rows; run_lloyd_loop drives the
// iterations (convergence, progress) through a LloydPasses. Not installed.
//
// Every assignment pass cuts the points into the same fixed blocks of block() consecutive rows
// (a function of k alone), and a block's outcome depends on its own rows and the state only: its
// points that Hamerly's bounds settle, then one sgemm over the others of the block. So a reader
// that hands the blocks over in index order can finish each block, labels included, before the
// next, and sum its points into their centroids in index order, as the in-memory update does.
#include <cstdint>
#include <functional>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/select/internal/kmeans.h"

namespace subset::select::kmeans_internal {

// Per column (centroid), the T smallest (g, index) seen, g a GEMM distance; with `exact`, also
// each entry's geometry::sq_dist to the centroid, computed when it is inserted (for callers that
// no longer hold the rows afterwards).
struct NearestPoints {
  static constexpr int T = 16;
  int64_t k = 0;
  bool exact = false;
  std::vector<float> g;
  std::vector<int32_t> idx;
  std::vector<double> e;  // with `exact`
  std::vector<int32_t> count;
  std::vector<float> thr;  // largest g held once full, +inf before

  void reset(int64_t cols, bool with_exact = false);
  // Keeps the T smallest (g, index) pairs; returns the slot written, or -1. Within one list rows
  // arrive in increasing index order, so an equal g never displaces an earlier point.
  int insert(int64_t j, float v, int32_t i);
  // Adds another list's pairs (from other rows): the result is the T smallest (g, index) pairs
  // of both, whichever rows each list saw.
  void merge(const NearestPoints& o);
};

class LloydCore {
 public:
  // Per-thread buffers of assign_block.
  struct Scratch {
    std::vector<float> s, gathered, best, second;
    std::vector<int32_t> lab;
    std::vector<int64_t> rows;
  };

  // n points of d values; the centres are the k centroids, then the fixed points (whose rows the
  // caller copies into centres() rows k, k + 1, ...).
  LloydCore(int64_t n, int64_t d, const std::vector<int64_t>& fixed, int64_t k);

  int64_t n() const { return n_; }
  int64_t d() const { return d_; }
  int64_t k() const { return k_; }
  RowMatrixF& centres() { return centres_; }
  const RowMatrixF& centres() const { return centres_; }
  bool is_fixed(int64_t i) const { return is_fixed_[sz(i)] != 0; }
  int64_t points_skipped() const { return skipped_; }

  // Rows per sgemm block, and the blocks: block b holds rows [b block(), min(n, (b + 1) block())).
  int64_t block() const { return block_; }
  int64_t blocks() const { return (n_ + block_ - 1) / block_; }

  // ||x||^2 (in float) of rows [first, first + count), needed before they are assigned.
  void set_norms(int64_t first, const float* rows, int64_t count);
  // The labels were set elsewhere (seeding, caller): no bounds known for them yet.
  void forget_bounds() { bounds_ = false; }
  // The largest ||x||^2 among the non-fixed points whose norms were set, as end_assign found it;
  // ranks that each set some of them replace it with the largest over all (pick_from_list's bound).
  float norm_bound() const { return max_xn_eligible_; }
  void set_norm_bound(float v) { max_xn_eligible_ = v; }

  // An assignment pass: begin_assign, then assign_block for every block (in any order, from any
  // thread, each with its own Scratch and its own `near` list), then end_assign with the sum of
  // what they returned. With near, every point goes through the sgemm and the lists are kept.
  //
  // Nearest centre of every point (ties to the lower column) and its squared distance (geometry's
  // sq_dist: exact up to double rounding). After an update, points whose bounds prove their centre
  // unchanged skip the sgemm (Hamerly's bounds: a lower bound on the distance to every other
  // centre, lowered by how far the centres moved; the kMovers centres that moved most are
  // measured exactly instead, so that one far jump does not void every bound).
  //
  // sgemm runs single-threaded on the blocks (a multi-threaded OpenBLAS sgemm rounds differently
  // depending on how it splits the work): every distance comes from the same calls at any thread
  // count and with any reader.
  void begin_assign(bool with_near);
  // Block b, whose rows are `rows`: label, dist and bounds of its points, and with `near` (only
  // when begin_assign had it) their part of the nearest-point lists. Returns the points settled
  // by bounds.
  int64_t assign_block(int64_t b, const float* rows, std::vector<int32_t>& label, std::vector<double>& dist,
                       NearestPoints* near, Scratch& scratch);
  void end_assign(int64_t settled);

  // The update, in three steps: relocate (cluster sizes into `count`; each empty centroid takes
  // the farthest point, largest distance first, lowest index on ties, never a fixed one; `label`
  // changes for those; returns the number of empty centroids, and in `moved` (point, old label)
  // of every point that changed), then set_mean for every centroid with points (`sum`: its
  // points' coordinates added in double in index order), then finish_update with the centroids
  // as they were before.
  int64_t relocate(std::vector<int32_t>& label, const std::vector<double>& dist, std::vector<int64_t>& count,
                   std::vector<std::pair<int64_t, int32_t>>* moved);
  void set_mean(int64_t j, const double* sum, int64_t count);
  void finish_update(const RowMatrixF& before);

  // The selection (kmeans.h): centroid 0, 1, ... takes its nearest unused real point, from the
  // final pass's lists when they certify it, else from scan(j, used) (the nearest unused point,
  // ties to the lowest index). exact(j, t): sq_dist of entry t of column j to centroid j.
  struct ListPick {
    int64_t arg = -1;
    bool ok = false;  // arg is certainly the nearest unused point
  };
  ListPick pick_from_list(int64_t j, const NearestPoints& near, const std::vector<char>& used,
                          const std::function<double(int64_t, int)>& exact) const;
  std::vector<int64_t> representatives(const NearestPoints& near, const std::function<double(int64_t, int)>& exact,
                                       const std::function<int64_t(int64_t, const std::vector<char>&)>& scan,
                                       int64_t& scans) const;
  // Fixed points marked used: where the selection starts.
  std::vector<char> unused_start() const { return is_fixed_; }

 private:
  double gemm_err(int64_t i) const;
  void collect(NearestPoints& near, const float* s, const float* rows, int64_t b0, int64_t nb) const;

  int64_t n_, d_, k_, kall_, block_;
  std::vector<char> is_fixed_;
  RowMatrixF centres_;  // k centroids, then the fixed points
  std::vector<float> xn_;
  std::vector<float> cn_;
  float cn_max_ = 0.0f;
  double gemm_rel_ = 0.0;
  std::vector<double> lb_;     // per point: lower bound on the distance to every centre but its own
  std::vector<double> drift_;  // per centre: how far the last update moved it (upper bound)
  bool bounds_ = false;        // lb_ and drift_ hold for the current labels
  int64_t skipped_ = 0;
  // The current pass: whether it uses the bounds, and then the centroids measured exactly
  // (`movers`, their rows and norms) and the largest move of the others (`stay`).
  bool bounded_ = false;
  std::vector<int32_t> movers_;
  RowMatrixF mc_;
  std::vector<float> mcn_;
  double stay_ = 0.0;
  int64_t eligible_ = 0;          // non-fixed points
  float max_xn_eligible_ = 0.0f;  // the largest norm among them (end_assign)
};

// The passes of one Lloyd run over some store of rows.
class LloydPasses {
 public:
  virtual ~LloydPasses() = default;
  virtual LloydCore& core() = 0;
  // A whole assignment pass (LloydCore::begin_assign ... end_assign).
  virtual void assign(std::vector<int32_t>& label, std::vector<double>& dist, NearestPoints* near) = 0;
  // Moves every centroid to the mean of its points (LloydCore::relocate ... finish_update);
  // returns the number of empty centroids relocated.
  virtual int64_t update(std::vector<int32_t>& label, const std::vector<double>& dist) = 0;
  virtual std::vector<int64_t> representatives(const NearestPoints& near, int64_t& scans) = 0;
};

// Lloyd from passes.core().centres(); `label`/`dist`, when not empty, are the exact assignment to
// them. Progress as run_lloyd (kmeans.h, internal/kmeans.h).
KMeansResult run_lloyd_loop(LloydPasses& passes, std::vector<int32_t> label, std::vector<double> dist,
                            int64_t iterations, double tolerance, const RunContext& context, int64_t progress_done,
                            int64_t progress_total, double progress_seconds);

}  // namespace subset::select::kmeans_internal
