// k-means++ seeding (see kmeans.h for the definition this reproduces): run_seeding, kmeanspp_seeds.
#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/linalg/product.h"
#include "libsubset/select/internal/kmeans.h"

namespace subset::select {
using namespace kmeans_internal;

namespace {

using geometry::sq_dist;

// A lower bound lb on d(x, cand) with lb^2 >= kNear * D2[x] proves sq_dist(x, cand) >= D2[x].
constexpr double kNear = (1.0 + geometry::kPruneMargin) * (1.0 + geometry::kPruneMargin);
// Dimensions of the PCA sketch whose bounds skip distance computations (geometry.h).
constexpr int64_t kSketchDims = 128;

struct Move {
  int32_t point;
  int32_t cand;
  double dist;
};

// Members per block of the sketch layout (one AVX-512 register of floats).
constexpr int64_t kLanes = 16;

// The points whose nearest centre is one centre, by decreasing D2 (then increasing index), with
// what the seeding reads about them stored contiguously, so that the scans below stream through
// it. Sketch coordinates are blocked: 16 members' coordinate k are adjacent, so one register
// holds one coordinate of 16 members. Members that move to a new centre are only marked dead;
// the arrays are rebuilt when most of them are.
struct Cluster {
  std::vector<int32_t> idx;
  std::vector<double> d2;
  std::vector<float> reach;   // per member: sqrt(kNear D2) / inv_sigma + e_x, rounded up
  std::vector<uint16_t> live;  // per block of 16: bit q % 16 clear once member q moved away
  std::vector<float> y;       // ceil(size / 16) blocks of p x 16 floats
  size_t dead = 0;
  double radius2 = 0.0;  // largest D2 of a live member
  size_t size() const { return idx.size(); }
  bool is_live(size_t q) const { return (live[q / kLanes] >> (q % kLanes)) & 1u; }
  void kill(size_t q) { live[q / kLanes] = static_cast<uint16_t>(live[q / kLanes] & ~(1u << (q % kLanes))); }
};

// One parallel task of a seeding step: a run of one cluster's members against the candidates
// that may reach that cluster.
struct SeedTask {
  // shared by every task of the step
  const float* x;
  int64_t d;
  int64_t p;  // sketch dimensions (0: none)
  float shrink;
  const double* bcc;  // L x C
  int64_t C;
  int64_t L;
  const int64_t* cands;
  const float* cand_err;  // rounded up
  const float* cand_y;    // L x p
  // this task
  const Cluster* cluster;
  int64_t cluster_id;
  size_t begin, end;  // member range, begin a multiple of kLanes
  const int32_t* slots;  // candidates that may reach the cluster, by increasing bcc
  size_t nslots;
  // results
  double* gain;  // per candidate
  std::vector<Move>* moves;
  int64_t computed, sketched, examined;
};

// The sketch test, for member q of a cluster and candidate coordinates yc: whether
// ||y_x - y_c||^2 >= (reach_x + e_c)^2, which proves d(x, c) >= sqrt(kNear D2[x]):
// ||x - c|| >= (||y_x - y_c|| - e_x - e_c) / sigma (geometry.h). Any leading subset of the
// coordinates gives a smaller sum, so the test may stop early. Float arithmetic: each lane's sum
// of p squares is within (p + 3) u of the exact one and (reach + e_c)^2 within 4 u, which
// `shrink` covers (see Seeder).
inline bool sketch_far(const Cluster& cl, size_t q, int64_t p, const float* yc, float ec, float shrink) {
  const float* blk = cl.y.data() + (q / kLanes) * static_cast<size_t>(p * kLanes) + q % kLanes;
  const float r = cl.reach[q] + ec;
  const float need = r * r;
  float s = 0.0f;
  for (int64_t k = 0; k < p; ++k) {
    const float z = blk[k * kLanes] - yc[k];
    s += z * z;
    if ((k & 31) == 31 && s * shrink >= need) return true;
  }
  return s * shrink >= need;
}

// A task's scan of the block of 16 members at q0 (q0 a multiple of 16) against the candidates
// slots[0..ns) whose triangle bound leaves members [q0, stop[s]): appends the pairs that the
// sketch leaves to compute. Block first, candidates inside: each block is read once.
void scan_generic(const SeedTask& t, size_t q0, const size_t* stop, size_t ns,
                  std::vector<std::pair<uint32_t, int32_t>>& pairs, int64_t& sketched) {
  const Cluster& cl = *t.cluster;
  for (size_t q = q0; q < q0 + kLanes && q < stop[0]; ++q) {
    if (!cl.is_live(q)) continue;
    for (size_t s = 0; s < ns && q < stop[s]; ++s) {
      const int32_t l = t.slots[s];
      if (t.p > 0 && sketch_far(cl, q, t.p, t.cand_y + static_cast<int64_t>(l) * t.p, t.cand_err[l], t.shrink)) {
        ++sketched;
        continue;
      }
      pairs.push_back({static_cast<uint32_t>(q), l});
    }
  }
}

#ifdef SUBSET_GEOMETRY_X86
// The same with AVX-512, the 16 members at once (the same sums, lane by lane); checks after 16,
// 32, 64, ... coordinates.
__attribute__((target("avx512f"))) void scan_avx512(const SeedTask& t, size_t q0, const size_t* stop, size_t ns,
                                                    std::vector<std::pair<uint32_t, int32_t>>& pairs,
                                                    int64_t& sketched) {
  const Cluster& cl = *t.cluster;
  const int64_t p = t.p;
  const __m512 shrink = _mm512_set1_ps(t.shrink);
  const float* blk = cl.y.data() + (q0 / kLanes) * static_cast<size_t>(p * kLanes);
  const __m512 reach = _mm512_loadu_ps(cl.reach.data() + q0);  // reach is padded to whole blocks
  const unsigned live = cl.live[q0 / kLanes];
  for (size_t s = 0; s < ns && q0 < stop[s]; ++s) {
    const int32_t l = t.slots[s];
    const size_t n = std::min<size_t>(kLanes, stop[s] - q0);
    const auto m = static_cast<__mmask16>((n == kLanes ? 0xFFFFu : (1u << n) - 1u) & live);
    if (!m) continue;
    const float* yc = t.cand_y + static_cast<int64_t>(l) * p;
    const __m512 r = _mm512_add_ps(reach, _mm512_set1_ps(t.cand_err[l]));
    const __m512 need = _mm512_mul_ps(r, r);
    // four independent sums (coordinates k mod 4), added at each check: no long FMA chain
    __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
    __mmask16 alive = m;
    int64_t k = 0;
    for (int64_t check = 16; k < p && alive; check *= 2) {
      const int64_t end = std::min(p, check);
      for (; k + 4 <= end; k += 4)
        for (int a = 0; a < 4; ++a) {
          const __m512 z = _mm512_sub_ps(_mm512_loadu_ps(blk + (k + a) * kLanes), _mm512_set1_ps(yc[k + a]));
          acc[a] = _mm512_fmadd_ps(z, z, acc[a]);
        }
      for (; k < end; ++k) {
        const __m512 z = _mm512_sub_ps(_mm512_loadu_ps(blk + k * kLanes), _mm512_set1_ps(yc[k]));
        acc[0] = _mm512_fmadd_ps(z, z, acc[0]);
      }
      const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
      alive = _mm512_mask_cmp_ps_mask(alive, _mm512_mul_ps(sum, shrink), need, _CMP_LT_OQ);
    }
    sketched += __builtin_popcount(static_cast<unsigned>(m & ~alive));
    for (unsigned bits = alive; bits; bits &= bits - 1)
      pairs.push_back({static_cast<uint32_t>(q0 + static_cast<size_t>(__builtin_ctz(bits))), l});
  }
}
#endif

using ScanFn = void (*)(const SeedTask&, size_t, const size_t*, size_t, std::vector<std::pair<uint32_t, int32_t>>&,
                       int64_t&);
using DistFn = double (*)(const float*, const float*, int64_t, double);

// A task: for each candidate (nearest first), the members its triangle bound leaves (a prefix:
// D2 decreasing), filtered by the sketch; then the remaining exact distances, member by member
// (each row read once) with the next rows prefetched.
void run_seed_task(SeedTask& t, ScanFn scan, DistFn dist_below) {
  const Cluster& cl = *t.cluster;
  int64_t examined = 0, sketched = 0;
  std::vector<std::pair<uint32_t, int32_t>> pairs;
  // triangle inequality: for each candidate (nearest first), members with kPrune D2 <= bcc
  // cannot get closer to it; D2 decreases along the members, so the others form a prefix
  std::vector<size_t> stop;
  for (size_t s = 0; s < t.nslots; ++s) {
    const double b = t.bcc[static_cast<int64_t>(t.slots[s]) * t.C + t.cluster_id];
    const auto first = cl.d2.begin() + static_cast<std::ptrdiff_t>(t.begin);
    const auto last = cl.d2.begin() + static_cast<std::ptrdiff_t>(t.end);
    const size_t e = static_cast<size_t>(
        std::partition_point(first, last, [&](double v) { return b < kPrune * v; }) - cl.d2.begin());
    if (e == t.begin) break;  // the later candidates are farther still
    stop.push_back(std::min(e, stop.empty() ? e : stop.back()));
    examined += static_cast<int64_t>(e - t.begin);
  }
  if (!stop.empty())
    for (size_t q0 = t.begin; q0 < stop[0]; q0 += kLanes) scan(t, q0, stop.data(), stop.size(), pairs, sketched);
  // member by member, candidates in slot order: a deterministic order, rows read once
  std::stable_sort(pairs.begin(), pairs.end(),
                   [](const std::pair<uint32_t, int32_t>& a, const std::pair<uint32_t, int32_t>& b) {
                     return a.first < b.first;
                   });
  std::vector<double> gain(static_cast<size_t>(t.L), 0.0);  // locals: neighbouring tasks, other threads
  for (size_t k = 0; k < pairs.size(); ++k) {
    const size_t q = pairs[k].first;
    const int32_t l = pairs[k].second;
    if (k + 2 < pairs.size() && pairs[k + 2].first != pairs[k + 1].first) {
      const float* next = t.x + static_cast<int64_t>(cl.idx[pairs[k + 2].first]) * t.d;
      for (int64_t b = 0; b < std::min<int64_t>(t.d, kExitEvery); b += 16) __builtin_prefetch(next + b);
    }
    const int32_t i = cl.idx[q];
    const double di = cl.d2[q];
    const double dist = dist_below(t.x + static_cast<int64_t>(i) * t.d, t.x + t.cands[l] * t.d, t.d, di);
    if (dist < di) {
      gain[static_cast<size_t>(l)] += di - dist;
      t.moves->push_back({i, l, dist});
    }
  }
  std::copy(gain.begin(), gain.end(), t.gain);
  t.examined = examined;
  t.sketched = sketched;
  t.computed = static_cast<int64_t>(pairs.size());
}

class Seeder {
 public:
  Seeder(const float* x, int64_t n, int64_t d, int64_t sketch_dims)
      : x_(x), n_(n), d_(d), d2_(sz(n), 0.0), owner_(sz(n), 0), is_centre_(sz(n), 0),
        sketch_(geometry::build_sketch(x, n, d, sketch_dims)), p_(sketch_.enabled() ? sketch_.p : 0) {
    const double u = std::ldexp(1.0, -24);
    shrink_ = static_cast<float>((1.0 - static_cast<double>(2 * p_ + 32) * u) * (1.0 - 1e-6));
    scan_ = scan_generic;
    dist_ = linalg::sq_dist_below_kernel();
#ifdef SUBSET_GEOMETRY_X86
    if (linalg::use_avx512()) scan_ = scan_avx512;
#endif
  }

  const float* row(int64_t i) const { return x_ + i * d_; }
  const std::vector<double>& d2() const { return d2_; }
  const std::vector<int32_t>& owner() const { return owner_; }
  const std::vector<int64_t>& centres() const { return centres_; }
  bool is_centre(int64_t i) const { return is_centre_[sz(i)] != 0; }
  int64_t distances() const { return distances_; }
  int64_t sketch_skips() const { return sketch_skips_; }
  int64_t examined() const { return examined_; }

  // The first centre: every point's distance to it.
  void start(int64_t c) {
    centres_.assign(1, c);
    centre_rows_.assign(row(c), row(c) + d_);
    centre_norm_.assign(1, norm2(row(c)));
    is_centre_[sz(c)] = 1;
    const float* xc = row(c);
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n_; ++i) d2_[sz(i)] = sq_dist(row(i), xc, d_);
    distances_ += n_;
    std::fill(owner_.begin(), owner_.end(), 0);
    std::vector<int32_t> all(sz(n_));
    std::iota(all.begin(), all.end(), 0);
    clusters_.assign(1, Cluster{});
    build_cluster(all, clusters_[0]);
  }

  // Sum of D2 in index order.
  double total() const {
    double t = 0.0;
    for (double v : d2_) t += v;
    return t;
  }

  // 1. of evaluate(): lower bounds bcc_ on the candidate-to-centre squared distances (only the
  //    pruning tests use them): ||c||^2 + ||m||^2 - 2 c.m with the dot products from one sgemm,
  //    minus a bound on its rounding error (any summation order: |error| <= d u |c| |m|, and the
  //    norms are in double), with a factor 2 to spare
  void candidate_bounds(const std::vector<int64_t>& cands) {
    const int64_t L = static_cast<int64_t>(cands.size());
    cand_rows_.resize(sz(L * d_));
    cand_norm_.resize(sz(L));
    for (int64_t l = 0; l < L; ++l) {
      std::copy_n(row(cands[sz(l)]), d_, cand_rows_.data() + l * d_);
      cand_norm_[sz(l)] = norm2(row(cands[sz(l)]));
    }
    candidate_centre_bounds(cand_rows_.data(), cand_norm_, centre_rows_.data(), centre_norm_, d_, dots_, bcc_);
  }

  // Computes, for each candidate, the distances it needs and the potential it would leave
  // (total - gains). Keeps what commit() needs.
  void evaluate(const std::vector<int64_t>& cands, double total) {
    const int64_t L = static_cast<int64_t>(cands.size());
    const int64_t C = static_cast<int64_t>(centres_.size());
    cands_ = cands;
    cand_err_.assign(sz(L), 0.0f);
    cand_y_.assign(sz(L * p_), 0.0f);
    for (int64_t l = 0; l < L && p_ > 0; ++l) {
      cand_err_[sz(l)] = up(sketch_.error[sz(cands[sz(l)])]);
      std::copy_n(sketch_.coords_of(cands[sz(l)]), p_, cand_y_.data() + l * p_);
    }
    candidate_bounds(cands);
    // 2. clusters that some candidate may reach, with those candidates nearest first; tasks over
    //    the reachable prefix of their members (D2 > bcc / kPrune)
    slots_.clear();
    tasks_.clear();
    std::vector<std::pair<size_t, size_t>> slot_range;
    for (int64_t j = 0; j < C; ++j) {
      const Cluster& cl = clusters_[sz(j)];
      const size_t first = slots_.size();
      double reach_min = kInf;
      for (int64_t l = 0; l < L; ++l) {
        const double b = bcc_[sz(l * C + j)];
        if (b < kPrune * cl.radius2) {
          slots_.push_back(static_cast<int32_t>(l));
          reach_min = std::min(reach_min, b);
        }
      }
      if (slots_.size() == first) continue;
      std::sort(slots_.begin() + static_cast<std::ptrdiff_t>(first), slots_.end(), [&](int32_t a, int32_t b) {
        return bcc_[sz(a * C + j)] < bcc_[sz(b * C + j)] || (bcc_[sz(a * C + j)] == bcc_[sz(b * C + j)] && a < b);
      });
      const size_t m = static_cast<size_t>(
          std::partition_point(cl.d2.begin(), cl.d2.end(), [&](double v) { return reach_min < kPrune * v; }) -
          cl.d2.begin());
      for (size_t b = 0; b < m; b += kTaskPoints) {
        SeedTask t{};
        t.cluster = &cl;
        t.cluster_id = j;
        t.begin = b;
        t.end = std::min(m, b + kTaskPoints);
        tasks_.push_back(t);
        slot_range.push_back({first, slots_.size()});
      }
    }
    // 3. the members' distances that the bounds do not settle, per task
    const size_t T = tasks_.size();
    gains_.assign(T * sz(L), 0.0);
    if (moves_.size() < T) moves_.resize(T);
    for (size_t t = 0; t < T; ++t) {
      SeedTask& task = tasks_[t];
      task.x = x_;
      task.d = d_;
      task.p = p_;
      task.shrink = shrink_;
      task.bcc = bcc_.data();
      task.C = C;
      task.L = L;
      task.cands = cands_.data();
      task.cand_err = cand_err_.data();
      task.cand_y = cand_y_.data();
      task.slots = slots_.data() + slot_range[t].first;
      task.nslots = slot_range[t].second - slot_range[t].first;
      task.gain = gains_.data() + t * sz(L);
      task.moves = &moves_[t];
      moves_[t].clear();
    }
    const ScanFn scan = scan_;
    const DistFn dist = dist_;
#pragma omp parallel for schedule(dynamic, 1)
    for (size_t t = 0; t < T; ++t) run_seed_task(tasks_[t], scan, dist);
    for (const SeedTask& t : tasks_) {
      distances_ += t.computed;
      sketch_skips_ += t.sketched;
      examined_ += t.examined;
    }
    potential_.assign(sz(L), 0.0);
    for (int64_t l = 0; l < L; ++l) {
      double g = 0.0;
      for (size_t t = 0; t < T; ++t) g += gains_[t * sz(L) + sz(l)];
      potential_[sz(l)] = total - g;
    }
  }

  const std::vector<double>& potential() const { return potential_; }

  // Adds candidate l of the last evaluate() as a centre.
  void commit(int64_t l) {
    const int64_t c = cands_[sz(l)];
    const auto id = static_cast<int32_t>(centres_.size());
    centres_.push_back(c);
    centre_rows_.insert(centre_rows_.end(), row(c), row(c) + d_);
    centre_norm_.push_back(norm2(row(c)));
    is_centre_[sz(c)] = 1;
    std::vector<int32_t> mine;
    std::vector<int64_t> touched;
    for (size_t t = 0; t < tasks_.size(); ++t) {
      bool any = false;
      Cluster& cl = clusters_[sz(tasks_[t].cluster_id)];
      const int64_t cid = tasks_[t].cluster_id;
      for (const Move& m : moves_[t]) {
        if (m.cand != l) continue;
        d2_[sz(m.point)] = m.dist;
        owner_[sz(m.point)] = id;
        mine.push_back(m.point);
        any = true;
      }
      if (any && (touched.empty() || touched.back() != cid)) touched.push_back(cid);
      (void)cl;
    }
    for (int64_t j : touched) {
      Cluster& cl = clusters_[sz(j)];
      for (size_t q = 0; q < cl.size(); ++q)
        if (cl.is_live(q) && owner_[sz(cl.idx[q])] != j) {
          cl.kill(q);
          ++cl.dead;
        }
      if (cl.dead * 2 > cl.size()) {
        std::vector<int32_t> keep;
        keep.reserve(cl.size() - cl.dead);
        for (size_t q = 0; q < cl.size(); ++q)
          if (cl.is_live(q)) keep.push_back(cl.idx[q]);
        build_cluster(keep, cl);
      } else {
        cl.radius2 = 0.0;
        for (size_t q = 0; q < cl.size(); ++q)
          if (cl.is_live(q)) {
            cl.radius2 = cl.d2[q];
            break;
          }
      }
    }
    clusters_.emplace_back();
    build_cluster(mine, clusters_.back());
  }

  // Adds point c as a centre unconditionally.
  void add(int64_t c) {
    evaluate({c}, 0.0);
    commit(0);
  }

 private:
  static float up(double v) { return std::nextafter(static_cast<float>(v), std::numeric_limits<float>::infinity()); }

  double norm2(const float* v) const {
    double s = 0.0;
    for (int64_t t = 0; t < d_; ++t) s += static_cast<double>(v[t]) * static_cast<double>(v[t]);
    return s;
  }

  // Fills `cl` with the points `mem` (their d2_ set), by decreasing D2 then increasing index.
  void build_cluster(std::vector<int32_t>& mem, Cluster& cl) const {
    std::sort(mem.begin(), mem.end(), [&](int32_t a, int32_t b) {
      return d2_[sz(a)] > d2_[sz(b)] || (d2_[sz(a)] == d2_[sz(b)] && a < b);
    });
    const size_t m = mem.size();
    const size_t blocks = (m + kLanes - 1) / kLanes;
    cl.idx = mem;
    cl.d2.resize(m);
    cl.reach.assign(blocks * kLanes, 0.0f);
    cl.live.assign(blocks, 0);
    for (size_t q = 0; q < m; ++q) cl.live[q / kLanes] = static_cast<uint16_t>(cl.live[q / kLanes] | (1u << (q % kLanes)));
    cl.dead = 0;
    cl.y.assign(blocks * sz(p_ * kLanes), 0.0f);
#pragma omp parallel for schedule(static) if (m > 4096)
    for (size_t q = 0; q < m; ++q) {
      const int32_t i = mem[q];
      cl.d2[q] = d2_[sz(i)];
      if (p_ > 0) {
        cl.reach[q] = up(std::sqrt(kNear * cl.d2[q]) / sketch_.inv_sigma * (1.0 + 1e-12) + sketch_.error[sz(i)]);
        float* blk = cl.y.data() + (q / kLanes) * sz(p_ * kLanes) + q % kLanes;
        const float* yi = sketch_.coords_of(i);
        for (int64_t k = 0; k < p_; ++k) blk[k * kLanes] = yi[k];
      }
    }
    cl.radius2 = m > 0 ? cl.d2[0] : 0.0;
  }

  const float* x_;
  int64_t n_, d_;
  std::vector<double> d2_;
  std::vector<int32_t> owner_;
  std::vector<char> is_centre_;
  std::vector<int64_t> centres_;
  std::vector<Cluster> clusters_;  // per centre
  geometry::Sketch sketch_;
  int64_t p_;
  float shrink_ = 1.0f;
  ScanFn scan_;
  DistFn dist_;
  int64_t distances_ = 0, sketch_skips_ = 0, examined_ = 0;
  // last evaluation
  std::vector<int64_t> cands_;
  std::vector<float> cand_err_;
  std::vector<float> cand_y_;
  std::vector<float> centre_rows_;   // C x d
  std::vector<double> centre_norm_;  // squared norms
  std::vector<float> cand_rows_;     // L x d
  std::vector<double> cand_norm_;
  std::vector<float> dots_;          // L x C
  std::vector<double> bcc_;          // L x C: lower bounds on squared candidate-centre distances
  std::vector<int32_t> slots_;
  std::vector<SeedTask> tasks_;
  std::vector<double> gains_;
  std::vector<std::vector<Move>> moves_;
  std::vector<double> potential_;
};

}  // namespace

namespace kmeans_internal {

void candidate_centre_bounds(const float* cand_rows, const std::vector<double>& cand_norm, const float* centre_rows,
                             const std::vector<double>& centre_norm, int64_t d, std::vector<float>& dots,
                             std::vector<double>& bcc) {
  const auto L = static_cast<int64_t>(cand_norm.size());
  const auto C = static_cast<int64_t>(centre_norm.size());
  dots.resize(sz(L * C));
  {
    BlasSingleThread single;
    linalg::gemm_nt(cand_rows, L, centre_rows, C, d, dots.data());
  }
  const double rel = 2.0 * static_cast<double>(d + 8) * std::ldexp(1.0, -24);
  bcc.resize(sz(L * C));
  for (int64_t l = 0; l < L; ++l)
    for (int64_t j = 0; j < C; ++j) {
      const double sum = cand_norm[sz(l)] + centre_norm[sz(j)];
      const double g = sum - 2.0 * static_cast<double>(dots[sz(l * C + j)]);
      bcc[sz(l * C + j)] = std::max(0.0, g - rel * sum);
    }
}

SeedRun run_seeding(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed, Rng& rng,
                    const RunContext* context, int64_t progress_total) {
  const int64_t n = x.rows(), d = x.cols();
  SUBSET_CHECK(trials >= 1, "kmeans", "k-means++ needs at least one trial per centre");
  Seeder s(x.data(), n, d, kSketchDims);
  SeedRun out;
  draw_seeds(s, n, k, trials, fixed, rng, context, progress_total,
             [&s, trials](const std::vector<int64_t>& cands, double total) {
               s.evaluate(cands, total);
               int64_t best = 0;
               const auto& pot = s.potential();
               for (int64_t l = 1; l < trials; ++l)
                 if (pot[sz(l)] < pot[sz(best)]) best = l;
               return best;
             },
             out);
  out.owner = s.owner();
  out.d2 = s.d2();
  out.distances = s.distances();
  return out;
}

}  // namespace kmeans_internal

std::vector<int64_t> kmeanspp_seeds(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed,
                                    Rng& rng) {
  check_input(x, fixed, k);
  BlasSingleThread single;
  return run_seeding(x, k, trials, fixed, rng, nullptr, 0).seeds;
}

}  // namespace subset::select
