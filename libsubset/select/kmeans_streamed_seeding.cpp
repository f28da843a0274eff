// k-means++ seeding on rows read in blocks: the centres of run_seeding (kmeans_seeding.cpp), bit
// for bit, and its final nearest centres and D2.
//
// The in-memory seeder picks, among a step's candidates, the lowest potential total - gains, and
// the gains are floating-point sums in a particular order: per task (kTaskPoints consecutive
// members of one centre's member list, ordered by decreasing D2 then index, dead members keeping
// their place until the list is rebuilt) in member order, then over the tasks in order. So the
// member lists are kept here exactly as there (without the sketch), each point's place in its
// list too, and the gains, computed block by block in index order, are summed in that order once
// the pass is over. A point is read only when the triangle bound (the same test) leaves it
// reachable by a candidate, and a block only when it holds such a point.
//
// On several ranks (RowBlocks::share_among) every rank keeps this state for all n points, as one
// process does (Lloyd, which follows, holds that much per point anyway), and computes the
// distances of its own rows only. A step's moves are then gathered from every rank, so each rank
// sums the same gains in the same order, chooses the same candidate and commits the same moves:
// D2, the member lists and the potential stay the single-process ones everywhere, and with them
// the draws (cumulative D2 in index order). Rows a rank does not own are sent by their owner.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <queue>
#include <tuple>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/linalg/product.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/internal/kmeans_streamed.h"
#include "libsubset/select/internal/rank_rows.h"

namespace subset::select::kmeans_internal {
namespace {

using geometry::sq_dist;

struct Move {
  int32_t point;
  int32_t cand;
  double dist;
};

// kmeans_seeding.cpp's Cluster without the sketch: the points whose nearest centre is one centre,
// by decreasing D2 (then increasing index); members that moved away are only marked dead.
struct Members {
  std::vector<int32_t> idx;
  std::vector<double> d2;
  std::vector<char> live;
  size_t dead = 0;
  double radius2 = 0.0;  // largest D2 of a live member
};

double norm2(const float* v, int64_t d) {
  double s = 0.0;
  for (int64_t t = 0; t < d; ++t) s += static_cast<double>(v[t]) * static_cast<double>(v[t]);
  return s;
}

class StreamSeeder {
 public:
  explicit StreamSeeder(const RowBlocks& rows)
      : rows_(rows), comm_(rows.comm()), ranges_(rows_of_ranks(rows)), n_(rows.n()), d_(rows.dim()),
        d2_(sz(n_), 0.0), owner_(sz(n_), 0), place_(sz(n_), 0), is_centre_(sz(n_), 0),
        dist_(linalg::sq_dist_below_kernel()) {
    std::tie(first_row_, end_row_) = ranges_[sz(comm_.rank())];
  }

  const std::vector<double>& d2() const { return d2_; }
  std::vector<double>& d2() { return d2_; }
  std::vector<int32_t>& owner() { return owner_; }
  const std::vector<int64_t>& centres() const { return centres_; }
  std::vector<float>& centre_rows() { return centre_rows_; }
  bool is_centre(int64_t i) const { return is_centre_[sz(i)] != 0; }
  // Distances computed on this rank.
  int64_t distances() const { return distances_; }

  // The first centre: every point's distance to it. The one pass that reads every block, so
  // the values are checked here.
  void start(int64_t c) {
    centres_.assign(1, c);
    centre_rows_.resize(sz(d_));
    read_row_everywhere(rows_, c, centre_rows_.data());
    centre_norm_.assign(1, norm2(centre_rows_.data(), d_));
    is_centre_[sz(c)] = 1;
    const float* xc = centre_rows_.data();
    const double limit = value_limit(d_);
    rows_.for_each_block([&](int64_t first, MatrixViewF block) {
      geometry::check_values(block.data(), block.rows(), d_, limit, "kmeans", first);
#pragma omp parallel for schedule(static) if (block.rows() * d_ > kParallelFloats)
      for (int64_t r = 0; r < block.rows(); ++r) d2_[sz(first + r)] = sq_dist(block.data() + r * d_, xc, d_);
    });
    distances_ += end_row_ - first_row_;
    share_ranges(comm_, ranges_, d2_);
    std::fill(owner_.begin(), owner_.end(), 0);
    std::vector<int32_t> all(sz(n_));
    std::iota(all.begin(), all.end(), 0);
    clusters_.assign(1, Members{});
    build(std::move(all), clusters_[0]);
  }

  // Sum of D2 in index order.
  double total() const {
    double t = 0.0;
    for (double v : d2_) t += v;
    return t;
  }

  // The candidate whose addition leaves the lowest potential (the first on ties), as the
  // in-memory evaluate() and run_seeding's choice; keeps its moves for commit().
  int64_t choose(const std::vector<int64_t>& cands, double total) {
    const int64_t L = static_cast<int64_t>(cands.size());
    cands_ = cands;
    cand_rows_.resize(sz(L * d_));
    cand_norm_.resize(sz(L));
    for (int64_t l = 0; l < L; ++l) {
      read_row_everywhere(rows_, cands[sz(l)], cand_rows_.data() + l * d_);
      cand_norm_[sz(l)] = norm2(cand_rows_.data() + l * d_, d_);
    }
    candidate_bounds();
    int64_t best = -1;
    double best_potential = 0.0;
    for (int64_t l0 = 0; l0 < L; l0 += kCandidatesPerPass) {
      const int64_t l1 = std::min(L, l0 + kCandidatesPerPass);
      std::vector<std::vector<Move>> moves = evaluate(l0, l1);
      const std::vector<double> gains = gains_in_task_order(moves, l0, l1);
      const int64_t before = best;
      for (int64_t l = l0; l < l1; ++l) {
        const double potential = total - gains[sz(l - l0)];
        if (best < 0 || potential < best_potential) {
          best = l;
          best_potential = potential;
        }
      }
      if (best != before) {
        const auto of_best = [&](const Move& m) { return m.cand == best; };
        size_t count = 0;
        for (const auto& run : moves) count += static_cast<size_t>(std::count_if(run.begin(), run.end(), of_best));
        best_moves_.clear();
        best_moves_.shrink_to_fit();
        best_moves_.reserve(count);
        for (const auto& run : moves)
          for (const Move& m : run)
            if (of_best(m)) best_moves_.push_back(m);
      }
    }
    return best;
  }

  // Adds candidate l of the last choose() (the one it returned) as a centre.
  void commit(int64_t l) {
    const int64_t c = cands_[sz(l)];
    const auto id = static_cast<int32_t>(centres_.size());
    centres_.push_back(c);
    centre_rows_.insert(centre_rows_.end(), cand_rows_.begin() + l * d_, cand_rows_.begin() + (l + 1) * d_);
    centre_norm_.push_back(cand_norm_[sz(l)]);
    is_centre_[sz(c)] = 1;
    std::vector<int32_t> mine;
    std::vector<int32_t> touched;
    for (const Move& m : best_moves_) {
      touched.push_back(owner_[sz(m.point)]);
      d2_[sz(m.point)] = m.dist;
      owner_[sz(m.point)] = id;
      mine.push_back(m.point);
    }
    std::sort(touched.begin(), touched.end());
    touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
    for (int32_t j : touched) {
      Members& cl = clusters_[sz(j)];
      for (size_t q = 0; q < cl.idx.size(); ++q)
        if (cl.live[q] && owner_[sz(cl.idx[q])] != j) {
          cl.live[q] = 0;
          ++cl.dead;
        }
      if (cl.dead * 2 > cl.idx.size()) {
        std::vector<int32_t> keep;
        keep.reserve(cl.idx.size() - cl.dead);
        for (size_t q = 0; q < cl.idx.size(); ++q)
          if (cl.live[q]) keep.push_back(cl.idx[q]);
        build(std::move(keep), cl);
      } else {
        cl.radius2 = 0.0;
        for (size_t q = 0; q < cl.idx.size(); ++q)
          if (cl.live[q]) {
            cl.radius2 = cl.d2[q];
            break;
          }
      }
    }
    clusters_.emplace_back();
    build(std::move(mine), clusters_.back());
    best_moves_.clear();
    best_moves_.shrink_to_fit();
  }

  // Adds point c as a centre unconditionally.
  void add(int64_t c) { commit(choose({c}, 0.0)); }

 private:
  // Lower bounds on the candidate-to-centre squared distances, as kmeans_seeding.cpp's.
  void candidate_bounds() {
    candidate_centre_bounds(cand_rows_.data(), cand_norm_, centre_rows_.data(), centre_norm_, d_, dots_, bcc_);
  }

  // One pass: the distances from candidates [l0, l1) that the bounds do not settle, and the
  // moves (points that get closer to a candidate than to their centre), in one run per block
  // read, each allocated once at its size and sorted by (centre, place); on several ranks, every
  // rank's runs, in rank order.
  std::vector<std::vector<Move>> evaluate(int64_t l0, int64_t l1) {
    const int64_t C = static_cast<int64_t>(centres_.size());
    // the reachable prefix of every centre's members (D2 decreasing: kPrune D2 > the nearest
    // candidate's bound), live members only
    std::vector<int32_t> work;
    for (int64_t j = 0; j < C; ++j) {
      const Members& cl = clusters_[sz(j)];
      double reach_min = kInf;
      for (int64_t l = l0; l < l1; ++l) {
        const double b = bcc_[sz(l * C + j)];
        if (b < kPrune * cl.radius2) reach_min = std::min(reach_min, b);
      }
      if (reach_min == kInf) continue;
      const size_t m = static_cast<size_t>(
          std::partition_point(cl.d2.begin(), cl.d2.end(), [&](double v) { return reach_min < kPrune * v; }) -
          cl.d2.begin());
      for (size_t q = 0; q < m; ++q)
        if (cl.live[q] && cl.idx[q] >= first_row_ && cl.idx[q] < end_row_) work.push_back(cl.idx[q]);
    }
    std::sort(work.begin(), work.end());
    std::vector<int64_t> which;
    for (int32_t i : work) {
      const int64_t b = i / rows_.block_rows();
      if (which.empty() || which.back() != b) which.push_back(b);
    }
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<std::vector<Move>> found(sz(threads)), runs;
    int64_t computed = 0;
    size_t next = 0;  // the first point of `work` not yet done
    const linalg::SqDistBelowFn dist = dist_;
    rows_.for_blocks(which, [&](int64_t first, MatrixViewF block) {
      const size_t begin = next;
      while (next < work.size() && work[next] < first + block.rows()) ++next;
      const size_t end = next;
      int64_t counted = 0;
      const bool share = static_cast<int64_t>(end - begin) * d_ > kParallelFloats;
#pragma omp parallel num_threads(threads) reduction(+ : counted) if (share)
      {
        std::vector<Move>& mine = found[sz(omp_get_thread_num())];
#pragma omp for schedule(dynamic, 64)
        for (size_t w = begin; w < end; ++w) {
          const int32_t i = work[w];
          const float* x = block.data() + (i - first) * d_;
          const double di = d2_[sz(i)];
          const int32_t j = owner_[sz(i)];
          for (int64_t l = l0; l < l1; ++l) {
            if (!(bcc_[sz(l * C + j)] < kPrune * di)) continue;
            ++counted;
            const double e = dist(x, cand_rows_.data() + l * d_, d_, di);
            if (e < di) mine.push_back({i, static_cast<int32_t>(l), e});
          }
        }
      }
      computed += counted;
      size_t moves = 0;
      for (const auto& f : found) moves += f.size();
      if (moves == 0) return;
      runs.emplace_back();
      runs.back().reserve(moves);
      for (auto& f : found) {
        runs.back().insert(runs.back().end(), f.begin(), f.end());
        f.clear();
      }
    });
    distances_ += computed;
    const auto R = static_cast<int64_t>(runs.size());
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t r = 0; r < R; ++r)
      std::sort(runs[sz(r)].begin(), runs[sz(r)].end(), [&](const Move& a, const Move& b) { return key(a) < key(b); });
    return gather_runs(std::move(runs));
  }

  // The order of the gains' sums: (centre, place).
  uint64_t key(const Move& m) const {
    return (static_cast<uint64_t>(owner_[sz(m.point)]) << 32) | static_cast<uint32_t>(place_[sz(m.point)]);
  }

  // Every rank's runs, one after the other in rank order. Each rank's runs travel as one buffer,
  // so beside the runs only one rank's moves are held twice.
  std::vector<std::vector<Move>> gather_runs(std::vector<std::vector<Move>>&& mine) const {
    if (!comm_.distributed()) return std::move(mine);
    std::vector<uint64_t> lengths, runs_of_rank;
    for (const auto& run : mine) lengths.push_back(run.size());
    lengths = gather_lists(comm_, lengths, &runs_of_rank);
    std::vector<std::vector<Move>> all;
    all.reserve(lengths.size());
    std::vector<Move> part;
    size_t next = 0;  // the first run of rank r in `lengths`
    for (int r = 0; r < comm_.size(); ++r) {
      const auto runs = static_cast<size_t>(runs_of_rank[sz(r)]);
      size_t moves = 0;
      for (size_t u = next; u < next + runs; ++u) moves += static_cast<size_t>(lengths[u]);
      if (r == comm_.rank()) {
        part.clear();
        for (const auto& run : mine) part.insert(part.end(), run.begin(), run.end());
      } else {
        part.resize(moves);
      }
      if (moves > 0) comm_.broadcast(part.data(), sizeof(Move) * moves, r);
      if (r == comm_.rank()) {
        for (auto& run : mine) all.push_back(std::move(run));
      } else {
        size_t at = 0;
        for (size_t u = next; u < next + runs; ++u) {
          const auto len = static_cast<size_t>(lengths[u]);
          all.emplace_back(part.begin() + static_cast<std::ptrdiff_t>(at),
                           part.begin() + static_cast<std::ptrdiff_t>(at + len));
          at += len;
        }
      }
      next += runs;
    }
    return all;
  }

  // Per candidate of [l0, l1), the sum of D2 - distance over its moves, in the in-memory order
  // (see the file comment): the runs (each sorted by (centre, place)) merged.
  std::vector<double> gains_in_task_order(const std::vector<std::vector<Move>>& runs, int64_t l0, int64_t l1) const {
    const auto R = static_cast<int64_t>(runs.size());
    const auto L = sz(l1 - l0);
    std::vector<double> total(L, 0.0), task(L, 0.0);
    const auto flush = [&] {
      for (size_t l = 0; l < L; ++l) {
        total[l] += task[l];
        task[l] = 0.0;
      }
    };
    // A point's moves are all in one run (its block's), so (centre, place) orders the merge.
    using Head = std::pair<uint64_t, int64_t>;  // (key, run)
    std::priority_queue<Head, std::vector<Head>, std::greater<Head>> heads;
    std::vector<size_t> at(sz(R), 0);
    for (int64_t r = 0; r < R; ++r)
      if (!runs[sz(r)].empty()) heads.push({key(runs[sz(r)][0]), r});
    bool started = false;
    uint64_t current = 0;
    while (!heads.empty()) {
      const auto [k, r] = heads.top();
      heads.pop();
      const std::vector<Move>& run = runs[sz(r)];
      const uint64_t task_id = (k >> 32 << 32) | ((k & 0xffffffffu) / kTaskPoints);
      if (started && task_id != current) flush();
      started = true;
      current = task_id;
      const Move& m = run[at[sz(r)]++];
      task[sz(m.cand - l0)] += d2_[sz(m.point)] - m.dist;
      if (at[sz(r)] < run.size()) heads.push({key(run[at[sz(r)]]), r});
    }
    flush();
    return total;
  }

  // Fills `cl` with the points `mem` (their d2_ set; taken), by decreasing D2 then increasing index.
  void build(std::vector<int32_t>&& mem, Members& cl) {
    std::sort(mem.begin(), mem.end(), [&](int32_t a, int32_t b) {
      return d2_[sz(a)] > d2_[sz(b)] || (d2_[sz(a)] == d2_[sz(b)] && a < b);
    });
    cl.idx = std::move(mem);
    cl.d2.resize(cl.idx.size());
    cl.live.assign(cl.idx.size(), 1);
    cl.dead = 0;
    for (size_t q = 0; q < cl.idx.size(); ++q) {
      cl.d2[q] = d2_[sz(cl.idx[q])];
      place_[sz(cl.idx[q])] = static_cast<int32_t>(q);
    }
    cl.radius2 = cl.idx.empty() ? 0.0 : cl.d2[0];
  }

  const RowBlocks& rows_;
  const Communicator& comm_;
  std::vector<std::pair<int64_t, int64_t>> ranges_;  // every rank's rows
  int64_t first_row_ = 0, end_row_ = 0;               // this rank's
  int64_t n_, d_;
  std::vector<double> d2_;
  std::vector<int32_t> owner_;
  std::vector<int32_t> place_;  // each point's place in its centre's member list
  std::vector<char> is_centre_;
  std::vector<int64_t> centres_;
  std::vector<float> centre_rows_;   // C x d
  std::vector<double> centre_norm_;  // squared norms
  std::vector<Members> clusters_;    // per centre
  linalg::SqDistBelowFn dist_;
  int64_t distances_ = 0;
  // the last choose()
  std::vector<int64_t> cands_;
  std::vector<float> cand_rows_;  // L x d
  std::vector<double> cand_norm_;
  std::vector<float> dots_;   // L x C
  std::vector<double> bcc_;   // L x C: lower bounds on squared candidate-centre distances
  std::vector<Move> best_moves_;
};

}  // namespace

SeedRun run_seeding_streamed(const RowBlocks& rows, int64_t k, int64_t trials, const std::vector<int64_t>& fixed,
                             Rng& rng, const RunContext* context, int64_t progress_total,
                             std::vector<float>* centre_rows) {
  const int64_t n = rows.n();
  SUBSET_CHECK(trials >= 1, "kmeans", "k-means++ needs at least one trial per centre");
  BlasSingleThread single;
  StreamSeeder s(rows);
  SeedRun out;
  draw_seeds(s, n, k, trials, fixed, rng, context, progress_total,
             [&s](const std::vector<int64_t>& cands, double total) { return s.choose(cands, total); }, out);
  out.owner = std::move(s.owner());
  out.d2 = std::move(s.d2());
  out.distances = sum_over_ranks(rows.comm(), s.distances());
  if (centre_rows) *centre_rows = std::move(s.centre_rows());
  return out;
}

}  // namespace subset::select::kmeans_internal
