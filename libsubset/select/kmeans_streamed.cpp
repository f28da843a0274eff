// k-means on rows read in blocks (internal/kmeans_streamed.h): the streamed seeding, then Lloyd's
// passes over the stream, then the selection; the arithmetic is LloydCore's, shared with memory.
//
// Lloyd's sgemm blocks (LloydCore::block() rows) need not line up with the stream's blocks: a
// block inside a stream block is computed in place, one that straddles two is copied together
// first. Blocks are finished one by one in index order (labels final), so each assignment pass
// also adds every point into its centroid's sum in index order, the order of the in-memory update.
//
// On several ranks (RowBlocks::share_among) every rank holds the per-point state of all n points
// (labels, distances, bounds: run_lloyd_loop and LloydCore work on whole vectors) but assigns only
// the LloydCore blocks that start among its own rows, reading its own blocks; the rows of a block
// that runs into the next ranks' rows are sent to it once, when the passes start, and kept. So
// every sgemm sees the rows it sees alone. After each assignment the ranks' labels and distances
// are shared; the centroid sums, which must add the points in index order, pass from rank to rank
// (accumulate_in_rank_order): rank 0 adds its rows during the assignment, the others read theirs
// again in turn. The nearest-point lists and the scans' lists are merged over the ranks, which
// keeps the same smallest entries.
#include "libsubset/select/internal/kmeans_streamed.h"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <queue>
#include <tuple>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/kmeans_lloyd.h"
#include "libsubset/select/internal/rank_rows.h"
#include "libsubset/select/sampling.h"

namespace subset::select::kmeans_internal {

namespace {

using geometry::sq_dist;

// Coordinates per task when a block's points are added into the centroid sums: each task adds
// every point in index order, for its own coordinates.
constexpr int64_t kSumDims = 32;
// Points kept per centroid by a scan pass of the selection (see StreamedLloyd::scan).
constexpr int64_t kScanKeep = 64;

// Consecutive rows [first, first + count) held at `rows`.
struct Span {
  int64_t first;
  const float* rows;
  int64_t count;
};

// Cuts a pass's stream blocks into LloydCore's blocks (see the file comment).
class Assembler {
 public:
  Assembler(int64_t n, int64_t d, int64_t block) : n_(n), d_(d), block_(block) {}

  void restart() { filled_ = 0; }

  // The LloydCore blocks that stream block `s` (rows [first, ...)) completes, in order.
  const std::vector<Span>& take(int64_t first, MatrixViewF s) {
    done_.clear();
    const int64_t end = first + s.rows();
    int64_t r = first;
    if (filled_ > 0) {
      const int64_t size = size_of(held_);
      const int64_t t = std::min(size - filled_, s.rows());
      std::copy_n(s.data(), t * d_, buffer_.data() + filled_ * d_);
      filled_ += t;
      r += t;
      if (filled_ < size) {
        tail_ = end;
        return done_;
      }
      done_.push_back({held_ * block_, buffer_.data(), size});
      filled_ = 0;
    }
    while (r < end) {
      const int64_t b = r / block_, size = size_of(b);
      if (r + size > end) break;
      done_.push_back({r, s.data() + (r - first) * d_, size});
      r += size;
    }
    tail_ = r;
    return done_;
  }

  // Once take()'s blocks are done: keeps the rows of `s` that start the next block.
  void keep_tail(int64_t first, MatrixViewF s) {
    const int64_t end = first + s.rows();
    if (tail_ >= end) return;
    held_ = tail_ / block_;
    buffer_.resize(sz(block_ * d_));
    filled_ = end - tail_;
    std::copy_n(s.data() + (tail_ - first) * d_, filled_ * d_, buffer_.data());
  }

 private:
  int64_t size_of(int64_t b) const { return std::min(block_, n_ - b * block_); }

  int64_t n_, d_, block_;
  std::vector<float> buffer_;
  int64_t held_ = 0, filled_ = 0, tail_ = 0;
  std::vector<Span> done_;
};

class StreamedLloyd : public LloydPasses {
 public:
  // Collective on several ranks: exchanges the rows of the blocks that straddle two ranks.
  StreamedLloyd(const RowBlocks& rows, const std::vector<int64_t>& fixed, int64_t k, bool values_checked)
      : rows_(rows), comm_(rows.comm()), n_(rows.n()), d_(rows.dim()), core_(rows.n(), rows.dim(), fixed, k),
        assembler_(rows.n(), rows.dim(), core_.block()), checked_(values_checked) {
    share_blocks();
  }

  LloydCore& core() override { return core_; }

  void assign(std::vector<int32_t>& label, std::vector<double>& dist, NearestPoints* near) override {
    label.resize(sz(n_));
    dist.resize(sz(n_));
    core_.begin_assign(near != nullptr);
    const int threads = std::max(1, omp_get_max_threads());
    scratch_.resize(sz(threads));
    std::vector<NearestPoints> local(near ? sz(threads) : 0);
    for (auto& l : local) l.reset(core_.k(), true);
    // An update follows every assignment but the last (the one with the lists).
    const bool sums = near == nullptr;
    if (sums) sums_.assign(sz(core_.k() * d_), 0.0);
    int64_t settled = 0;
    assembler_.restart();
    // Rows [first, ...) of this rank's LloydCore blocks, in index order.
    const auto feed = [&](int64_t first, MatrixViewF block) {
      const std::vector<Span>& done = assembler_.take(first, block);
      const auto count = static_cast<int64_t>(done.size());
      int64_t got = 0;
#pragma omp parallel num_threads(threads) reduction(+ : got) if (count > 1)
      {
        const int t = omp_get_thread_num();
#pragma omp for schedule(dynamic, 1)
        for (int64_t p = 0; p < count; ++p)
          got += core_.assign_block(done[sz(p)].first / core_.block(), done[sz(p)].rows, label, dist,
                                    near ? &local[sz(t)] : nullptr, scratch_[sz(t)]);
      }
      settled += got;
      // rank 0's rows start the sums: they need nothing from another rank
      if (sums && comm_.rank() == 0) accumulate(below(done, end_row_), label, nullptr);
      assembler_.keep_tail(first, block);
    };
    rows_.for_each_block([&](int64_t first, MatrixViewF block) {
      arrived(first, block);
      const int64_t skip = std::clamp<int64_t>(lloyd_first_ - first, 0, block.rows());
      if (skip < block.rows()) feed(first + skip, view(block.data() + skip * d_, block.rows() - skip, d_));
    });
    if (!tail_.empty()) feed(end_row_, view(tail_.data(), lloyd_end_ - end_row_, d_));
    first_pass_done();
    core_.end_assign(sum_over_ranks(comm_, settled));
    if (comm_.distributed()) {
      float bound = 0.0f;
      for (float b : gather_all(comm_, core_.norm_bound())) bound = std::max(bound, b);
      core_.set_norm_bound(bound);
      share_ranges(comm_, lloyd_ranges_, label);
      share_ranges(comm_, lloyd_ranges_, dist);
    }
    if (near) {
      near->reset(core_.k(), true);
      for (auto& l : local) near->merge(l);
      merge_over_ranks(*near);
    }
    if (sums)
      accumulate_in_rank_order(comm_, sums_, [&](std::vector<double>&) {
        if (comm_.rank() > 0) sum_own_rows(label, nullptr, nullptr);
      });
    sums_valid_ = sums;
  }

  int64_t update(std::vector<int32_t>& label, const std::vector<double>& dist) override {
    const int64_t k = core_.k();
    const RowMatrixF before = core_.centres().topRows(k);
    if (!sums_valid_) {
      // the labels came from the seeding: a pass for the sums alone
      sums_.assign(sz(k * d_), 0.0);
      accumulate_in_rank_order(comm_, sums_, [&](std::vector<double>&) { sum_own_rows(label, nullptr, nullptr); });
      first_pass_done();
    }
    std::vector<int64_t> count;
    std::vector<std::pair<int64_t, int32_t>> moved;
    const int64_t empty = core_.relocate(label, dist, count, &moved);
    if (!moved.empty()) {
      // the centroids that lost or gained a point: their sums again, from the blocks of their points
      std::vector<char> affected(sz(k), 0);
      for (const auto& [p, old] : moved) {
        if (old < k) affected[sz(old)] = 1;
        affected[sz(label[sz(p)])] = 1;
      }
      for (int64_t j = 0; j < k; ++j)
        if (affected[sz(j)]) std::fill_n(sums_.begin() + j * d_, d_, 0.0);
      std::vector<int64_t> which;
      for (int64_t i = first_row_; i < end_row_; ++i) {
        const int32_t l = label[sz(i)];
        const int64_t b = i / rows_.block_rows();
        if (l < k && affected[sz(l)] && (which.empty() || which.back() != b)) which.push_back(b);
      }
      accumulate_in_rank_order(comm_, sums_, [&](std::vector<double>&) { sum_own_rows(label, &affected, &which); });
    }
    for (int64_t j = 0; j < k; ++j)
      if (count[sz(j)] > 0) core_.set_mean(j, sums_.data() + j * d_, count[sz(j)]);
    core_.finish_update(before);
    sums_valid_ = false;
    return empty;
  }

  std::vector<int64_t> representatives(const NearestPoints& near, int64_t& scans) override {
    const auto exact = [&](int64_t j, int t) { return near.e[sz(j) * NearestPoints::T + sz(t)]; };
    lists_.assign(sz(core_.k()), {});
    return core_.representatives(
        near, exact, [&](int64_t j, const std::vector<char>& used) { return scan(j, used, near, exact); }, scans);
  }

 private:
  // This rank assigns the LloydCore blocks that start among its rows: rows [lloyd_first_,
  // lloyd_end_). Its first rows below lloyd_first_ (the end of a block that starts on an earlier
  // rank) go to that rank, and the rows [end_row_, lloyd_end_) come from the next ranks, once.
  void share_blocks() {
    const std::vector<std::pair<int64_t, int64_t>> owned = rows_of_ranks(rows_);
    const int64_t L = core_.block();
    const auto up = [&](int64_t row) { return std::min(n_, (row + L - 1) / L * L); };
    for (const auto& [first, end] : owned) lloyd_ranges_.emplace_back(up(first), up(end));
    const int me = comm_.rank();
    std::tie(first_row_, end_row_) = owned[sz(me)];
    std::tie(lloyd_first_, lloyd_end_) = lloyd_ranges_[sz(me)];
    if (!comm_.distributed()) return;
    const auto assigner = [&](int64_t row) {
      int r = 0;
      while (lloyd_ranges_[sz(r)].second <= row) ++r;
      return r;
    };
    const auto head_end = [&](int r) { return std::min(owned[sz(r)].second, lloyd_ranges_[sz(r)].first); };
    if (head_end(me) > first_row_) {
      std::vector<float> head(sz((head_end(me) - first_row_) * d_));
      rows_.read_rows(first_row_, head_end(me) - first_row_, head.data());
      comm_.send(head.data(), sizeof(float) * head.size(), assigner(first_row_));
    }
    tail_.resize(sz((lloyd_end_ - end_row_) * d_));
    for (int q = me + 1; q < comm_.size(); ++q) {
      const int64_t first = owned[sz(q)].first, count = head_end(q) - first;
      if (count > 0 && assigner(first) == me)
        comm_.receive(tail_.data() + (first - end_row_) * d_, sizeof(float) * sz(count * d_), q);
    }
    if (!tail_.empty()) core_.set_norms(end_row_, tail_.data(), lloyd_end_ - end_row_);
  }

  // The parts of `spans` below row `end`.
  static std::vector<Span> below(const std::vector<Span>& spans, int64_t end) {
    std::vector<Span> out;
    for (const Span& s : spans)
      if (s.first < end) out.push_back({s.first, s.rows, std::min(s.count, end - s.first)});
    return out;
  }

  // Adds this rank's rows (of the blocks `which`, or all) into the sums (see accumulate).
  void sum_own_rows(const std::vector<int32_t>& label, const std::vector<char>* only,
                    const std::vector<int64_t>* which) {
    const auto add = [&](int64_t first, MatrixViewF block) {
      arrived(first, block);
      accumulate({{first, block.data(), block.rows()}}, label, only);
    };
    if (which) rows_.for_blocks(*which, add);
    else rows_.for_each_block(add);
  }

  // Every rank's lists merged: the T smallest (g, index) of each column over all of them.
  void merge_over_ranks(NearestPoints& near) const {
    if (!comm_.distributed()) return;
    const auto P = sz(comm_.size());
    const size_t cells = near.g.size();
    std::vector<float> g(P * cells);
    std::vector<int32_t> idx(P * cells), count(P * sz(near.k));
    std::vector<double> e(P * cells);
    comm_.all_gather(near.g.data(), sizeof(float) * cells, g.data());
    comm_.all_gather(near.idx.data(), sizeof(int32_t) * cells, idx.data());
    comm_.all_gather(near.e.data(), sizeof(double) * cells, e.data());
    comm_.all_gather(near.count.data(), sizeof(int32_t) * near.count.size(), count.data());
    near.reset(near.k, true);
    NearestPoints one;
    one.reset(near.k, true);
    for (size_t r = 0; r < P; ++r) {
      std::copy_n(g.begin() + static_cast<std::ptrdiff_t>(r * cells), cells, one.g.begin());
      std::copy_n(idx.begin() + static_cast<std::ptrdiff_t>(r * cells), cells, one.idx.begin());
      std::copy_n(e.begin() + static_cast<std::ptrdiff_t>(r * cells), cells, one.e.begin());
      std::copy_n(count.begin() + static_cast<std::ptrdiff_t>(r * sz(near.k)), sz(near.k), one.count.begin());
      near.merge(one);
    }
  }

  // A stream block read for the first time in a pass: its values checked and its norms set on
  // the first pass.
  void arrived(int64_t first, MatrixViewF block) {
    if (!checked_) geometry::check_values(block.data(), block.rows(), d_, value_limit(d_), "kmeans", first);
    if (!norms_) core_.set_norms(first, block.data(), block.rows());
  }
  void first_pass_done() { checked_ = norms_ = true; }

  // Adds the spans' points (those of the centroids marked in `only`, or all) into the sums of
  // their centroids, in index order for every coordinate.
  void accumulate(const std::vector<Span>& spans, const std::vector<int32_t>& label, const std::vector<char>* only) {
    const int64_t k = core_.k();
    const int64_t tasks = (d_ + kSumDims - 1) / kSumDims;
    int64_t points = 0;
    for (const Span& s : spans) points += s.count;
#pragma omp parallel for schedule(static) if (points * d_ > kParallelFloats)
    for (int64_t task = 0; task < tasks; ++task) {
      const int64_t t0 = task * kSumDims, t1 = std::min(d_, t0 + kSumDims);
      for (const Span& s : spans)
        for (int64_t r = 0; r < s.count; ++r) {
          const int32_t l = label[sz(s.first + r)];
          if (l >= k || (only && !(*only)[sz(l)])) continue;
          const float* x = s.rows + r * d_;
          double* sum = sums_.data() + l * d_;
          for (int64_t t = t0; t < t1; ++t) sum[t] += static_cast<double>(x[t]);
        }
    }
  }

  // The nearest unused point of centroid j (ties to the lowest index). A pass computes, for j
  // and every later centroid that its list can no longer certify (they will all need a scan:
  // points only get used), the points nearest it among those unused now; the later ones keep
  // min(their distance in centroids from j, kScanKeep) + 1 of them, at least one of which is
  // still unused when their turn comes (each centroid in between takes one point), unless the
  // cap was hit: then their turn makes a new pass.
  int64_t scan(int64_t j, const std::vector<char>& used, const NearestPoints& near,
               const std::function<double(int64_t, int)>& exact) {
    for (const auto& [e, i] : lists_[sz(j)])
      if (!used[sz(i)]) return i;
    std::vector<int64_t> batch = {j};
    for (int64_t j2 = j + 1; j2 < core_.k(); ++j2)
      if (!core_.pick_from_list(j2, near, used, exact).ok) batch.push_back(j2);
    using Entry = std::pair<double, int64_t>;  // (distance, index): a heap with the farthest on top
    std::vector<std::priority_queue<Entry>> heaps(batch.size());
    const auto count = static_cast<int64_t>(batch.size());
    rows_.for_each_block([&](int64_t first, MatrixViewF block) {
#pragma omp parallel for schedule(dynamic, 1) if (count > 1)
      for (int64_t s = 0; s < count; ++s) {
        const int64_t c = batch[sz(s)];
        const auto keep = sz(std::min(c - j, kScanKeep) + 1);
        const float* centre = core_.centres().row(c).data();
        auto& heap = heaps[sz(s)];
        for (int64_t r = 0; r < block.rows(); ++r) {
          const int64_t i = first + r;
          if (used[sz(i)]) continue;
          const Entry entry{sq_dist(block.data() + r * d_, centre, d_), i};
          if (heap.size() < keep) {
            heap.push(entry);
          } else if (entry < heap.top()) {
            heap.pop();
            heap.push(entry);
          }
        }
      }
    });
    for (int64_t s = 0; s < count; ++s) {
      auto& list = lists_[sz(batch[sz(s)])];
      list.resize(heaps[sz(s)].size());
      for (size_t q = list.size(); q-- > 0;) {
        list[q] = heaps[sz(s)].top();
        heaps[sz(s)].pop();
      }
    }
    if (comm_.distributed()) {
      // every rank's nearest points: the ones kept are the smallest of them all
      struct Found {
        int64_t slot;
        double dist;
        int64_t index;
      };
      std::vector<Found> mine;
      for (int64_t s = 0; s < count; ++s)
        for (const auto& [e, i] : lists_[sz(batch[sz(s)])]) mine.push_back({s, e, i});
      for (int64_t c : batch) lists_[sz(c)].clear();
      for (const Found& f : gather_lists(comm_, mine)) lists_[sz(batch[sz(f.slot)])].push_back({f.dist, f.index});
      for (int64_t s = 0; s < count; ++s) {
        const int64_t c = batch[sz(s)];
        auto& list = lists_[sz(c)];
        std::sort(list.begin(), list.end());
        list.resize(std::min(list.size(), sz(std::min(c - j, kScanKeep) + 1)));
      }
    }
    SUBSET_CHECK(!lists_[sz(j)].empty(), "kmeans", "no unused point left for centroid " << j);
    return lists_[sz(j)].front().second;
  }

  const RowBlocks& rows_;
  const Communicator& comm_;
  int64_t n_, d_;
  int64_t first_row_ = 0, end_row_ = 0;      // this rank's rows
  int64_t lloyd_first_ = 0, lloyd_end_ = 0;  // the rows of the LloydCore blocks it assigns
  std::vector<std::pair<int64_t, int64_t>> lloyd_ranges_;  // every rank's
  std::vector<float> tail_;                                // rows [end_row_, lloyd_end_)
  LloydCore core_;
  Assembler assembler_;
  std::vector<LloydCore::Scratch> scratch_;
  std::vector<double> sums_;  // k x d: per centroid, its points' coordinates added in index order
  bool sums_valid_ = false;   // sums_ hold the current labels (the last pass was an assignment)
  bool checked_, norms_ = false;
  std::vector<std::vector<std::pair<double, int64_t>>> lists_;  // the scans' nearest points
};

}  // namespace

KMeansResult kmeans_fit_streamed(const RowBlocks& rows, const std::vector<int64_t>& fixed, const KMeansOptions& o,
                                 const RunContext& context) {
  const int64_t n = rows.n(), d = rows.dim(), k = o.k;
  const auto F = static_cast<int64_t>(fixed.size());
  check_shape(n, d, fixed, k);
  check_options(o);
  Rng rng(context.seed);
  BlasSingleThread single;
  std::vector<int32_t> label;
  std::vector<double> dist;
  std::vector<int64_t> initial;
  // Progress weighted as kmeans_fit's.
  int64_t done = 0, total = o.iterations * k;
  int64_t seeding_distances = 0, seeding_brute = 0;
  std::vector<float> seed_rows;  // (fixed..., seeds...)
  const auto started = std::chrono::steady_clock::now();
  if (o.init == KMeansInit::PlusPlus) {
    total += k;
    SeedRun sr = run_seeding_streamed(rows, k, o.trials(), fixed, rng, &context, total, &seed_rows);
    initial = std::move(sr.seeds);
    seeding_distances = sr.distances;
    seeding_brute = sr.brute;
    labels_from_seeding(sr, F, k, label, dist);
    done = k;
  } else {
    std::vector<int64_t> excluded = fixed;
    std::sort(excluded.begin(), excluded.end());
    initial = sample_without_replacement(n - F, k, rng);
    rank_to_index(initial, excluded);
  }
  StreamedLloyd lloyd(rows, fixed, k, /*values_checked=*/!seed_rows.empty());
  RowMatrixF& centres = lloyd.core().centres();
  for (int64_t j = 0; j < k; ++j) {
    if (seed_rows.empty()) {
      read_row_everywhere(rows, initial[sz(j)], centres.row(j).data());
    } else {
      std::copy_n(seed_rows.data() + (F + j) * d, d, centres.row(j).data());
    }
  }
  for (int64_t s = 0; s < F; ++s) {
    if (seed_rows.empty()) {
      read_row_everywhere(rows, fixed[sz(s)], centres.row(k + s).data());
    } else {
      std::copy_n(seed_rows.data() + s * d, d, centres.row(k + s).data());
    }
  }
  seed_rows = {};
  KMeansResult res = run_lloyd_loop(lloyd, std::move(label), std::move(dist), o.iterations, o.tolerance, context, done,
                                    total,
                                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  res.initial = std::move(initial);
  res.seeding_distances = seeding_distances;
  res.seeding_distances_brute = seeding_brute;
  return res;
}

double kmeans_streamed_bytes(int64_t n, int64_t d, int64_t picks, int threads) {
  const double N = static_cast<double>(n), D = static_cast<double>(d), K = static_cast<double>(picks);
  const double T = static_cast<double>(std::max(threads, 1));
  const double trials = static_cast<double>(
      std::min<int64_t>(kCandidatesPerPass, KMeansOptions{std::max<int64_t>(picks, 1)}.trials()));
  // Per point, the larger of the seeding's and Lloyd's. Seeding: D2, centre, place, flag (17
  // bytes), its entry in a member list (13, twice over before a list is rebuilt), in the step's
  // work list (4); and up to one 16-byte move per candidate (every point moves when the first
  // centre lies far from all the others), plus a copy of the best candidate's. Lloyd: label,
  // distance, bound, norm, flag, previous label, used flag (30 bytes).
  const double points = N * std::max(17.0 + 26.0 + 4.0 + 16.0 * (trials + 1.0), 30.0);
  // Per centre: the seeds' rows, the centroids, their copy before an update and their sums (20 d
  // bytes), the nearest-point lists, the scans' lists, the candidate bounds.
  const double centres =
      K * (D * 24.0 + NearestPoints::T * 16.0 * (T + 1.0) + static_cast<double>(kScanKeep) * 16.0 + trials * 12.0);
  // Per thread: the sgemm block's products and gathered rows, and the BLAS's packing buffers; the
  // block that straddles two stream blocks, and on several ranks the one that runs into the next
  // ranks' rows.
  const double block = std::min(N, std::clamp(static_cast<double>(int64_t{2} << 20) / std::max(K, 1.0), 64.0, 2048.0));
  const double per_thread = T * (block * std::max(K, 64.0) * 4.0 + block * D * 4.0 + 6.0 * 1024 * 1024);
  return points + centres + per_thread + 2.0 * block * D * 4.0;
}

}  // namespace subset::select::kmeans_internal
