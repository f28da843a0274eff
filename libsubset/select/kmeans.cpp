#include "libsubset/select/kmeans.h"

#include <omp.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/geometry.h"
#include "libsubset/select/sampling.h"

// Fortran BLAS (subset_select links BLAS::BLAS: OpenBLAS through Debian's libblas.so.3 alternative).
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SUBSET_KMEANS_X86 1
#endif

namespace subset::select {
namespace {

using geometry::sq_dist;

constexpr double kInf = std::numeric_limits<double>::infinity();
// A point x whose nearest centre c has sq_dist(cand, c) >= kPrune * D2[x] is provably no closer to
// the candidate than to c: d(cand, c) >= 2 (1 + margin) d(x, c), and the margin is far above the
// relative error of sq_dist (geometry.h), so the brute-force comparison would also keep c.
constexpr double kPrune = 4.0 * (1.0 + geometry::kPruneMargin) * (1.0 + geometry::kPruneMargin);
// A lower bound lb on d(x, cand) with lb^2 >= kNear * D2[x] proves sq_dist(x, cand) >= D2[x].
constexpr double kNear = (1.0 + geometry::kPruneMargin) * (1.0 + geometry::kPruneMargin);
// Dimensions of the PCA sketch whose bounds skip distance computations (geometry.h).
constexpr int64_t kSketchDims = 128;
// Centroids whose distances Lloyd's bounded passes compute exactly (the ones that moved most):
// k / kMoversShare, at most kMovers.
constexpr int64_t kMovers = 64;
constexpr int64_t kMoversShare = 16;
// Members per parallel task in the seeding.
constexpr size_t kTaskPoints = 512;

size_t sz(int64_t v) { return static_cast<size_t>(v); }

// ---------------------------------------------------------------------------------------------
// k-means++ seeding (see kmeans.h for the definition this reproduces).

// sq_dist (geometry.h) with an early exit: the exact same value when it is below `bound`, else
// some value >= bound. Partial lane sums only grow (nonnegative terms, rounding to nearest is
// monotone), and so does the fixed reduction of them, so once the reduced partial sums reach the
// bound the full distance does too. The full computation repeats geometry.h's definition step
// for step (float differences, double squares summed in 16 lanes, the fixed reduction).
inline double reduce_lanes(const double* s) {
  double u[8], v[4], w[2];
  for (int l = 0; l < 8; ++l) u[l] = s[l] + s[l + 8];
  for (int l = 0; l < 4; ++l) v[l] = u[l] + u[l + 4];
  for (int l = 0; l < 2; ++l) w[l] = v[l] + v[l + 2];
  return w[0] + w[1];
}

constexpr int64_t kExitEvery = 256;  // floats between early-exit checks

double sq_dist_below_generic(const float* a, const float* b, int64_t dim, double bound) {
  double s[16] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
  int64_t j = 0;
  while (j + 16 <= dim) {
    const int64_t stop = std::min(dim - dim % 16, j + kExitEvery);
    for (; j < stop; j += 16)
      for (int l = 0; l < 16; ++l) {
        const float t = a[j + l] - b[j + l];
        s[l] += static_cast<double>(t) * static_cast<double>(t);
      }
    if (j < dim && reduce_lanes(s) >= bound) return reduce_lanes(s);
  }
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce_lanes(s);
}

#ifdef SUBSET_KMEANS_X86
__attribute__((target("avx512f"))) double sq_dist_below_avx512(const float* a, const float* b, int64_t dim,
                                                                double bound) {
  __m512d acc0 = _mm512_setzero_pd();  // lanes 0..7
  __m512d acc1 = _mm512_setzero_pd();  // lanes 8..15
  const auto all = static_cast<__mmask8>(0xFF);
  alignas(64) double s[16];
  int64_t j = 0;
  while (j + 16 <= dim) {
    const int64_t stop = std::min(dim - dim % 16, j + kExitEvery);
    for (; j < stop; j += 16) {
      const __m512d lo = _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j)));
      const __m512d hi =
          _mm512_maskz_cvtps_pd(all, _mm256_sub_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8)));
      acc0 = _mm512_fmadd_pd(lo, lo, acc0);  // exact products: the same as multiply then add
      acc1 = _mm512_fmadd_pd(hi, hi, acc1);
    }
    if (j < dim) {
      _mm512_store_pd(s, acc0);
      _mm512_store_pd(s + 8, acc1);
      const double partial = reduce_lanes(s);
      if (partial >= bound) return partial;
    }
  }
  _mm512_store_pd(s, acc0);
  _mm512_store_pd(s + 8, acc1);
  for (int l = 0; j + l < dim; ++l) {
    const float t = a[j + l] - b[j + l];
    s[l] += static_cast<double>(t) * static_cast<double>(t);
  }
  return reduce_lanes(s);
}
#endif

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

#ifdef SUBSET_KMEANS_X86
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
    dist_ = sq_dist_below_generic;
#ifdef SUBSET_KMEANS_X86
    if (__builtin_cpu_supports("avx512f")) {
      scan_ = scan_avx512;
      dist_ = sq_dist_below_avx512;
    }
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
    // 1. lower bounds on the candidate-to-centre squared distances (only the pruning tests use
    //    them): ||c||^2 + ||m||^2 - 2 c.m with the dot products from one sgemm, minus a bound on
    //    its rounding error (any summation order: |error| <= d u |c| |m|, and the norms are in
    //    double), with a factor 2 to spare
    cand_rows_.resize(sz(L * d_));
    cand_norm_.resize(sz(L));
    for (int64_t l = 0; l < L; ++l) {
      std::copy_n(row(cands[sz(l)]), d_, cand_rows_.data() + l * d_);
      cand_norm_[sz(l)] = norm2(row(cands[sz(l)]));
    }
    dots_.resize(sz(L * C));
    {
      const int Ci = static_cast<int>(C), Li = static_cast<int>(L), Di = static_cast<int>(d_);
      const float one = 1.0f, zero = 0.0f;
      BlasSingleThread single;  // the same rounding at any thread count
      sgemm_("T", "N", &Ci, &Li, &Di, &one, centre_rows_.data(), &Di, cand_rows_.data(), &Di, &zero, dots_.data(), &Ci);
    }
    const double rel = 2.0 * static_cast<double>(d_ + 8) * std::ldexp(1.0, -24);
    bcc_.resize(sz(L * C));
    for (int64_t l = 0; l < L; ++l)
      for (int64_t j = 0; j < C; ++j) {
        const double sum = cand_norm_[sz(l)] + centre_norm_[sz(j)];
        const double g = sum - 2.0 * static_cast<double>(dots_[sz(l * C + j)]);
        bcc_[sz(l * C + j)] = std::max(0.0, g - rel * sum);
      }
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

struct SeedRun {
  std::vector<int64_t> seeds;
  std::vector<int32_t> owner;  // index into (fixed..., seeds...)
  std::vector<double> d2;
  int64_t distances = 0, brute = 0;
};

SeedRun run_seeding(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed, Rng& rng,
                    const RunContext* context, int64_t progress_total) {
  const int64_t n = x.rows(), d = x.cols();
  SUBSET_CHECK(trials >= 1, "kmeans", "k-means++ needs at least one trial per centre");
  Seeder s(x.data(), n, d, kSketchDims);
  SeedRun out;
  if (fixed.empty()) {
    const auto c0 = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(n)));
    s.start(c0);
    out.seeds.push_back(c0);
  } else {
    s.start(fixed[0]);
    for (size_t f = 1; f < fixed.size(); ++f) s.add(fixed[f]);
  }
  out.brute += n * static_cast<int64_t>(fixed.empty() ? 1 : fixed.size());
  std::vector<int64_t> cands;
  std::vector<std::pair<double, int64_t>> draws;
  while (static_cast<int64_t>(out.seeds.size()) < k) {
    check_interrupted();
    if (context) context->report(static_cast<int64_t>(out.seeds.size()), progress_total);
    const double total = s.total();
    if (!(total > 0.0)) {
      // Every point coincides with a centre: a uniform non-centre point.
      const int64_t m = n - static_cast<int64_t>(s.centres().size());
      auto r = static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(m)));
      int64_t pick = -1;
      for (int64_t i = 0; i < n && pick < 0; ++i)
        if (!s.is_centre(i) && r-- == 0) pick = i;
      s.add(pick);
      out.seeds.push_back(pick);
      continue;
    }
    draws.clear();
    for (int64_t l = 0; l < trials; ++l) draws.push_back({rng.uniform01() * total, l});
    std::sort(draws.begin(), draws.end());
    cands.assign(sz(trials), -1);
    {
      double cum = 0.0;
      size_t p = 0;
      const auto& d2 = s.d2();
      for (int64_t i = 0; i < n && p < draws.size(); ++i) {
        cum += d2[sz(i)];
        while (p < draws.size() && draws[p].first < cum) cands[sz(draws[p++].second)] = i;
      }
      // cum ends exactly at total > every draw, so every draw found its point.
    }
    s.evaluate(cands, total);
    out.brute += n * trials;
    int64_t best = 0;
    const auto& pot = s.potential();
    for (int64_t l = 1; l < trials; ++l)
      if (pot[sz(l)] < pot[sz(best)]) best = l;
    s.commit(best);
    out.seeds.push_back(cands[sz(best)]);
  }
  out.owner = s.owner();
  out.d2 = s.d2();
  out.distances = s.distances();
  return out;
}

// ---------------------------------------------------------------------------------------------
// Lloyd iterations with sgemm-based assignment.

// Per column (centroid), the T smallest (g, index) seen, g a GEMM distance.
struct NearestPoints {
  static constexpr int T = 16;
  int64_t k = 0;
  std::vector<float> g;
  std::vector<int32_t> idx;
  std::vector<int32_t> count;
  std::vector<float> thr;  // largest g held once full, +inf before

  void reset(int64_t cols) {
    k = cols;
    g.assign(sz(cols) * T, 0.0f);
    idx.assign(sz(cols) * T, 0);
    count.assign(sz(cols), 0);
    thr.assign(sz(cols), std::numeric_limits<float>::infinity());
  }
  // Keeps the T smallest (g, index) pairs. Within one list rows arrive in increasing index order,
  // so an equal g never displaces an earlier point.
  void insert(int64_t j, float v, int32_t i) {
    float* gj = g.data() + j * T;
    int32_t* ij = idx.data() + j * T;
    int32_t& c = count[sz(j)];
    if (c < T) {
      gj[c] = v;
      ij[c] = i;
      ++c;
      if (c == T) thr[sz(j)] = *std::max_element(gj, gj + T);
      return;
    }
    int worst = 0;  // the largest (g, index)
    for (int t = 1; t < T; ++t)
      if (gj[t] > gj[worst] || (gj[t] == gj[worst] && ij[t] > ij[worst])) worst = t;
    gj[worst] = v;
    ij[worst] = i;
    thr[sz(j)] = *std::max_element(gj, gj + T);
  }
  // Adds another list's pairs (from other rows): the result is the T smallest (g, index) pairs
  // of both, whichever rows each list saw.
  void merge(const NearestPoints& o) {
    for (int64_t j = 0; j < k; ++j) {
      std::vector<std::pair<float, int32_t>> all;
      for (int t = 0; t < count[sz(j)]; ++t) all.push_back({g[sz(j) * T + sz(t)], idx[sz(j) * T + sz(t)]});
      for (int t = 0; t < o.count[sz(j)]; ++t) all.push_back({o.g[sz(j) * T + sz(t)], o.idx[sz(j) * T + sz(t)]});
      std::sort(all.begin(), all.end());
      const int c = static_cast<int>(std::min<size_t>(all.size(), T));
      for (int t = 0; t < c; ++t) {
        g[sz(j) * T + sz(t)] = all[sz(t)].first;
        idx[sz(j) * T + sz(t)] = all[sz(t)].second;
      }
      count[sz(j)] = c;
      thr[sz(j)] = c == T ? all[sz(T - 1)].first : std::numeric_limits<float>::infinity();
    }
  }
};

// Row-wise argmin of cn[j] - 2 s[j] (lowest j on ties) and the second smallest value, in 16
// lanes so that it vectorises. Writes the argmin and the two values (without ||x||^2).
__attribute__((target_clones("avx512f", "avx2", "default"))) void argmin2_rows(const float* s, int64_t rows,
                                                                                int64_t cols, const float* cn,
                                                                                int32_t* label, float* best,
                                                                                float* second) {
  constexpr float inf = std::numeric_limits<float>::infinity();
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = s + r * cols;
    float b1[16], b2[16];
    int32_t bi[16];
    for (int l = 0; l < 16; ++l) {
      b1[l] = inf;
      b2[l] = inf;
      bi[l] = 0;
    }
    int64_t j = 0;
    for (; j + 16 <= cols; j += 16) {
      for (int l = 0; l < 16; ++l) {
        const float v = cn[j + l] - 2.0f * row[j + l];
        const bool lt = v < b1[l];
        b2[l] = lt ? b1[l] : (v < b2[l] ? v : b2[l]);
        b1[l] = lt ? v : b1[l];
        bi[l] = lt ? static_cast<int32_t>(j + l) : bi[l];
      }
    }
    for (int l = 0; j + l < cols; ++l) {
      const float v = cn[j + l] - 2.0f * row[j + l];
      if (v < b1[l]) {
        b2[l] = b1[l];
        b1[l] = v;
        bi[l] = static_cast<int32_t>(j + l);
      } else if (v < b2[l]) {
        b2[l] = v;
      }
    }
    int w = 0;
    for (int l = 1; l < 16; ++l)
      if (b1[l] < b1[w] || (b1[l] == b1[w] && bi[l] < bi[w])) w = l;
    float sec = b2[w];
    for (int l = 0; l < 16; ++l)
      if (l != w) sec = std::min(sec, b1[l]);
    label[r] = bi[w];
    best[r] = b1[w];
    second[r] = sec;
  }
}

class Lloyd {
 public:
  Lloyd(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k)
      : x_(x.data()), n_(x.rows()), d_(x.cols()), k_(k), fixed_(fixed), is_fixed_(sz(n_), 0),
        centres_(k + static_cast<int64_t>(fixed.size()), x.cols()), xn_(sz(n_)), lb_(sz(n_), 0.0) {
    for (size_t s = 0; s < fixed.size(); ++s) {
      is_fixed_[sz(fixed[s])] = 1;
      std::copy_n(row(fixed[s]), d_, centres_.row(k + static_cast<int64_t>(s)).data());
    }
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n_; ++i) xn_[sz(i)] = static_cast<float>(norm2(row(i), d_));
    kall_ = centres_.rows();
    block_ = std::clamp<int64_t>((int64_t{2} << 20) / std::max<int64_t>(kall_, 1), 64, 2048);
    block_ = std::min(block_, n_);
    cn_.resize(sz(kall_));
    drift_.assign(sz(kall_), 0.0);
    gemm_rel_ = static_cast<double>(d_ + 8) * static_cast<double>(FLT_EPSILON);
  }

  RowMatrixF& centres() { return centres_; }
  int64_t k() const { return k_; }
  const float* row(int64_t i) const { return x_ + i * d_; }
  int64_t points_skipped() const { return skipped_; }

  // The labels were set elsewhere (seeding, caller): no bounds known for them yet.
  void forget_bounds() { bounds_ = false; }

  // Nearest centre of every point (ties to the lower column) and its squared distance (geometry's
  // sq_dist: exact up to double rounding). With `near`, a full pass that also keeps the T nearest
  // non-fixed points of each centroid. Otherwise, after an update, points whose bounds prove their
  // centre unchanged skip the sgemm (Hamerly's bounds: a lower bound on the distance to every other
  // centre, lowered by how far the centres moved; the `kMovers` centres that moved most are
  // measured exactly instead, so that one far jump does not void every bound).
  //
  // sgemm runs on fixed blocks of rows, one block per OpenMP thread at a time, single-threaded:
  // every distance comes from the same calls at any thread count (a multi-threaded OpenBLAS sgemm
  // rounds differently depending on how it splits the work).
  void assign(std::vector<int32_t>& label, std::vector<double>& dist, NearestPoints* near) {
    label.resize(sz(n_));
    dist.resize(sz(n_));
    cn_max_ = 0.0f;
    for (int64_t j = 0; j < kall_; ++j) {
      cn_[sz(j)] = static_cast<float>(norm2(centres_.row(j).data(), d_));
      cn_max_ = std::max(cn_max_, cn_[sz(j)]);
    }
    std::vector<int64_t> rows;  // the points that need the full sgemm
    if (near || !bounds_) {
      rows.resize(sz(n_));
      std::iota(rows.begin(), rows.end(), 0);
    } else {
      rows = settle_by_bounds(label, dist);
    }
    skipped_ += n_ - static_cast<int64_t>(rows.size());
    full_rows(rows, label, dist, near);
    bounds_ = true;
  }

  // Moves every centroid to the mean of its points; empty ones to the farthest points first.
  // `label` may be changed (relocated points). Returns the number of relocations.
  int64_t update(std::vector<int32_t>& label, const std::vector<double>& dist) {
    std::vector<int64_t> count(sz(k_), 0);
    for (int32_t l : label)
      if (l < k_) ++count[sz(l)];
    int64_t empty = 0;
    for (int64_t c : count) empty += c == 0;
    const RowMatrixF before = centres_.topRows(k_);
    if (empty > 0) {
      std::vector<int64_t> order;
      order.reserve(sz(n_));
      for (int64_t i = 0; i < n_; ++i)
        if (!is_fixed_[sz(i)]) order.push_back(i);
      const auto far = [&](int64_t a, int64_t b) {
        return dist[sz(a)] > dist[sz(b)] || (dist[sz(a)] == dist[sz(b)] && a < b);
      };
      const auto take = std::min<int64_t>(empty, static_cast<int64_t>(order.size()));
      std::partial_sort(order.begin(), order.begin() + take, order.end(), far);
      int64_t next = 0;
      for (int64_t j = 0; j < k_ && next < take; ++j) {
        if (count[sz(j)] != 0) continue;
        const int64_t p = order[sz(next++)];
        const int32_t old = label[sz(p)];
        if (old < k_) --count[sz(old)];
        label[sz(p)] = static_cast<int32_t>(j);
        lb_[sz(p)] = 0.0;  // its bound was about another centre
        count[sz(j)] = 1;
      }
    }
    // members of each centroid in index order (counting sort)
    std::vector<int64_t> start(sz(k_) + 1, 0);
    for (int64_t j = 0; j < k_; ++j) start[sz(j) + 1] = start[sz(j)] + count[sz(j)];
    std::vector<int64_t> members(sz(start[sz(k_)]));
    std::vector<int64_t> fill(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n_; ++i) {
      const int32_t l = label[sz(i)];
      if (l < k_) members[sz(fill[sz(l)]++)] = i;
    }
#pragma omp parallel
    {
      std::vector<double> sum(sz(d_));
#pragma omp for schedule(dynamic, 4)
      for (int64_t j = 0; j < k_; ++j) {
        const int64_t b = start[sz(j)], e = start[sz(j) + 1];
        if (b == e) continue;  // no points: stays where it is
        std::fill(sum.begin(), sum.end(), 0.0);
        for (int64_t q = b; q < e; ++q) {
          const float* r = row(members[sz(q)]);
          for (int64_t t = 0; t < d_; ++t) sum[sz(t)] += static_cast<double>(r[t]);
        }
        const double inv = 1.0 / static_cast<double>(e - b);
        float* c = centres_.row(j).data();
        for (int64_t t = 0; t < d_; ++t) c[t] = static_cast<float>(sum[sz(t)] * inv);
      }
    }
    // how far each centroid moved (rounded up: the bounds subtract it)
    for (int64_t j = 0; j < k_; ++j)
      drift_[sz(j)] = std::sqrt(sq_dist(before.row(j).data(), centres_.row(j).data(), d_)) * (1.0 + 1e-6);
    return empty;
  }

  // The real point nearest each centroid, in centroid order, unique, never fixed (kmeans.h).
  std::vector<int64_t> representatives(const NearestPoints& near, int64_t& scans) const {
    std::vector<char> used(is_fixed_);
    int64_t eligible = 0;
    float max_xn = 0.0f;
    for (int64_t i = 0; i < n_; ++i)
      if (!is_fixed_[sz(i)]) {
        ++eligible;
        max_xn = std::max(max_xn, xn_[sz(i)]);
      }
    std::vector<int64_t> out;
    out.reserve(sz(k_));
    for (int64_t j = 0; j < k_; ++j) {
      const float* c = centres_.row(j).data();
      const int cnt = near.count[sz(j)];
      double best = kInf;
      int64_t arg = -1;
      for (int t = 0; t < cnt; ++t) {
        const int64_t i = near.idx[sz(j) * NearestPoints::T + sz(t)];
        if (used[sz(i)]) continue;
        const double e = sq_dist(row(i), c, d_);
        if (e < best || (e == best && i < arg)) {
          best = e;
          arg = i;
        }
      }
      // Complete when the list holds every eligible point; otherwise certified when no point
      // outside it can be as close: their GEMM distance is >= thr, and GEMM distances are within
      // gemm_rel_ * (|x|^2 + |c|^2) of the real ones.
      bool ok = arg >= 0;
      if (ok && cnt == NearestPoints::T && eligible > NearestPoints::T) {
        const double bound = gemm_rel_ * (static_cast<double>(max_xn) + static_cast<double>(cn_[sz(j)])) * 1.001;
        ok = best * (1.0 + 4.0 * geometry::kDistRelError) < static_cast<double>(near.thr[sz(j)]) - bound;
      }
      if (!ok) {
        ++scans;
        arg = nearest_unused(c, used);
      }
      used[sz(arg)] = 1;
      out.push_back(arg);
    }
    return out;
  }

 private:
  static double norm2(const float* v, int64_t d) {
    double s = 0.0;
    for (int64_t t = 0; t < d; ++t) s += static_cast<double>(v[t]) * static_cast<double>(v[t]);
    return s;
  }

  // Bound on |GEMM distance - real distance| for point i against any centre.
  double gemm_err(int64_t i) const {
    return gemm_rel_ * (static_cast<double>(xn_[sz(i)]) + static_cast<double>(cn_max_)) * 1.001;
  }

  // After an update: keeps the label of every point whose bounds prove it, sets dist for those,
  // and returns the others (in index order).
  std::vector<int64_t> settle_by_bounds(const std::vector<int32_t>& label, std::vector<double>& dist) {
    // the kMovers centroids that moved most (ties to the lower index) are measured exactly;
    // every other centre moved at most `stay`
    std::vector<int64_t> order(sz(k_));
    std::iota(order.begin(), order.end(), 0);
    const auto h = std::min<int64_t>({kMovers, k_, std::max<int64_t>(1, k_ / kMoversShare)});
    std::partial_sort(order.begin(), order.begin() + h, order.end(), [&](int64_t a, int64_t b) {
      return drift_[sz(a)] > drift_[sz(b)] || (drift_[sz(a)] == drift_[sz(b)] && a < b);
    });
    double stay = 0.0;  // the largest move among the others (partial_sort leaves them unordered)
    for (int64_t q = h; q < k_; ++q) stay = std::max(stay, drift_[sz(order[sz(q)])]);
    std::vector<int32_t> movers(order.begin(), order.begin() + h);
    RowMatrixF mc(h, d_);
    std::vector<float> mcn(sz(h));
    for (int64_t m = 0; m < h; ++m) {
      mc.row(m) = centres_.row(movers[sz(m)]);
      mcn[sz(m)] = cn_[sz(movers[sz(m)])];
    }
    std::vector<uint8_t> settled(sz(n_), 0);
    const int64_t blocks = (n_ + block_ - 1) / block_;
    const int threads = std::max(1, omp_get_max_threads());
#pragma omp parallel num_threads(threads)
    {
      std::vector<float> s(sz(block_ * h));
      const int H = static_cast<int>(h), D = static_cast<int>(d_);
      const float one = 1.0f, zero = 0.0f;
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t b0 = b * block_;
        const int64_t nb = std::min(block_, n_ - b0);
        const int NB = static_cast<int>(nb);
        sgemm_("T", "N", &H, &NB, &D, &one, mc.data(), &D, row(b0), &D, &zero, s.data(), &H);
        for (int64_t r = 0; r < nb; ++r) {
          const int64_t i = b0 + r;
          const int32_t a = label[sz(i)];
          const double e = sq_dist(row(i), centres_.row(a).data(), d_);
          dist[sz(i)] = e;
          // lower bound on the distance to every centre but a
          double lower = lb_[sz(i)] - stay;
          const double err = gemm_err(i);
          for (int64_t m = 0; m < h && lower > 0.0; ++m) {
            if (movers[sz(m)] == a) continue;
            const double g = static_cast<double>(xn_[sz(i)]) + static_cast<double>(mcn[sz(m)]) -
                             2.0 * static_cast<double>(s[sz(r * h + m)]);
            lower = std::min(lower, std::sqrt(std::max(0.0, g - err)));
          }
          // sq_dist is within kDistRelError of the real squared distance
          if (std::sqrt(e * (1.0 + geometry::kDistRelError)) < lower) {
            settled[sz(i)] = 1;
            lb_[sz(i)] = lower;
          }
        }
      }
    }
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < n_; ++i)
      if (!settled[sz(i)]) rows.push_back(i);
    return rows;
  }

  // The full sgemm for the given points (in index order, blocked in that order): label, dist and
  // the bound on the distance to every other centre; with `near`, the nearest-point lists.
  void full_rows(const std::vector<int64_t>& rows, std::vector<int32_t>& label, std::vector<double>& dist,
                 NearestPoints* near) {
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<NearestPoints> local(near ? sz(threads) : 0);
    for (auto& l : local) l.reset(k_);
    const auto count = static_cast<int64_t>(rows.size());
    const int64_t blocks = (count + block_ - 1) / block_;
    const bool contiguous = count == n_;
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      std::vector<float> s(sz(block_ * kall_));
      std::vector<float> gathered(contiguous ? 0 : sz(block_ * d_));
      std::vector<int32_t> lab(sz(block_));
      std::vector<float> best(sz(block_)), second(sz(block_));
      const int K = static_cast<int>(kall_), D = static_cast<int>(d_);
      const float one = 1.0f, zero = 0.0f;
#pragma omp for schedule(dynamic, 1)
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t r0 = b * block_;
        const int64_t nb = std::min(block_, count - r0);
        const int NB = static_cast<int>(nb);
        const float* xb = row(rows[sz(r0)]);
        if (!contiguous) {
          for (int64_t r = 0; r < nb; ++r) std::copy_n(row(rows[sz(r0 + r)]), d_, gathered.data() + r * d_);
          xb = gathered.data();
        }
        // S (nb x K, row-major) = X_b C^T, i.e. column-major K x nb = C X_b^T.
        sgemm_("T", "N", &K, &NB, &D, &one, centres_.data(), &D, xb, &D, &zero, s.data(), &K);
        argmin2_rows(s.data(), nb, kall_, cn_.data(), lab.data(), best.data(), second.data());
        for (int64_t r = 0; r < nb; ++r) {
          const int64_t i = rows[sz(r0 + r)];
          label[sz(i)] = lab[sz(r)];
          dist[sz(i)] = sq_dist(row(i), centres_.row(lab[sz(r)]).data(), d_);
          const double g2 = static_cast<double>(xn_[sz(i)]) + static_cast<double>(second[sz(r)]);
          lb_[sz(i)] = std::sqrt(std::max(0.0, g2 - gemm_err(i)));
        }
        if (near) collect(local[sz(t)], s.data(), r0, nb);  // contiguous: r0 is the first index
      }
    }
    if (near) {
      near->reset(k_);
      for (auto& l : local) near->merge(l);
    }
    check_interrupted();
  }

  void collect(NearestPoints& near, const float* s, int64_t b0, int64_t nb) const {
    for (int64_t r = 0; r < nb; ++r) {
      const int64_t i = b0 + r;
      if (is_fixed_[sz(i)]) continue;
      const float* srow = s + r * kall_;
      const float xi = xn_[sz(i)];
      for (int64_t j = 0; j < k_; ++j) {
        const float g = xi + (cn_[sz(j)] - 2.0f * srow[j]);
        if (g < near.thr[sz(j)]) near.insert(j, g, static_cast<int32_t>(i));
      }
    }
  }

  int64_t nearest_unused(const float* c, const std::vector<char>& used) const {
    const int threads = std::max(1, omp_get_max_threads());
    std::vector<double> best(sz(threads), kInf);
    std::vector<int64_t> arg(sz(threads), -1);
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
#pragma omp for schedule(static)
      for (int64_t i = 0; i < n_; ++i) {
        if (used[sz(i)]) continue;
        const double e = sq_dist(row(i), c, d_);
        if (e < best[sz(t)] || (e == best[sz(t)] && i < arg[sz(t)])) {
          best[sz(t)] = e;
          arg[sz(t)] = i;
        }
      }
    }
    double b = kInf;
    int64_t a = -1;
    for (int t = 0; t < threads; ++t)
      if (arg[sz(t)] >= 0 && (a < 0 || best[sz(t)] < b || (best[sz(t)] == b && arg[sz(t)] < a))) {
        b = best[sz(t)];
        a = arg[sz(t)];
      }
    return a;
  }

  const float* x_;
  int64_t n_, d_, k_, kall_ = 0, block_ = 0;
  std::vector<int64_t> fixed_;
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
};

double sum_in_order(const std::vector<double>& v) {
  double s = 0.0;
  for (double f : v) s += f;
  return s;
}

// Lloyd from lloyd.centres(); `label`/`dist`, when not empty, are the exact assignment to them.
KMeansResult run_lloyd(Lloyd& lloyd, std::vector<int32_t> label, std::vector<double> dist, int64_t iterations,
                       double tolerance, const RunContext& context, int64_t progress_done, int64_t progress_total) {
  KMeansResult res;
  NearestPoints near;
  bool have = !label.empty();
  std::vector<int32_t> previous;
  double previous_inertia = 0.0;
  int64_t relocated_last = 0;
  for (int64_t it = 0;; ++it) {
    const bool last = it == iterations;
    if (have) {
      lloyd.forget_bounds();
      have = false;
    } else {
      lloyd.assign(label, dist, last ? &near : nullptr);
    }
    const double inertia = sum_in_order(dist);
    if (it == 0) res.initial_inertia = inertia;
    res.inertia = inertia;
    if (last) break;
    if (it > 0) {
      const bool repeat = relocated_last == 0 && label == previous;
      const bool small = tolerance > 0.0 && previous_inertia - inertia <= tolerance * previous_inertia;
      if (repeat || small) {
        res.converged = true;
        lloyd.assign(label, dist, &near);  // same centres: the same labels, plus the near lists
        res.inertia = sum_in_order(dist);
        break;
      }
    }
    previous = label;
    previous_inertia = inertia;
    relocated_last = lloyd.update(label, dist);
    res.relocated += relocated_last;
    res.iterations = it + 1;
    check_interrupted();
    context.report(progress_done + it + 1, progress_total);
  }
  const int64_t k = lloyd.k();
  res.centroids = lloyd.centres().topRows(k);
  res.assignment = std::move(label);
  res.cluster_sizes.assign(sz(k), 0);
  for (int32_t l : res.assignment)
    if (l < k) ++res.cluster_sizes[sz(l)];
  res.representatives = lloyd.representatives(near, res.representative_scans);
  res.points_skipped = lloyd.points_skipped();
  return res;
}

void check_input(MatrixViewF x, const std::vector<int64_t>& fixed, int64_t k) {
  const int64_t n = x.rows();
  SUBSET_CHECK(n > 0 && x.cols() > 0, "kmeans", "no points");
  SUBSET_CHECK(n <= std::numeric_limits<int32_t>::max() && x.cols() <= std::numeric_limits<int32_t>::max(),
               "kmeans", "at most 2^31 - 1 points and dimensions");
  for (int64_t f : fixed) SUBSET_CHECK(f >= 0 && f < n, "already selected", "index " << f << " out of range");
  SUBSET_CHECK(k >= 1 && k + static_cast<int64_t>(fixed.size()) <= n, "--budget",
               "k-means needs 1 <= k <= " << n - static_cast<int64_t>(fixed.size()) << ", got " << k);
  // Squares of differences and GEMM products must stay finite in float.
  const double limit = std::sqrt(static_cast<double>(FLT_MAX) / (16.0 * static_cast<double>(x.cols())));
  geometry::check_values(x.data(), n, x.cols(), limit, "kmeans");
}

}  // namespace

// ---------------------------------------------------------------------------------------------

namespace kmeans_detail {
double sq_dist_below(const float* a, const float* b, int64_t dim, double bound) {
#ifdef SUBSET_KMEANS_X86
  static const bool avx512 = __builtin_cpu_supports("avx512f");
  if (avx512) return sq_dist_below_avx512(a, b, dim, bound);
#endif
  return sq_dist_below_generic(a, b, dim, bound);
}
}  // namespace kmeans_detail

int64_t KMeansOptions::trials() const {
  if (local_trials > 0) return local_trials;
  return 2 + static_cast<int64_t>(std::floor(std::log(static_cast<double>(std::max<int64_t>(k, 1)))));
}

KMeansOptions KMeansOptions::from_params(const ParamMap& p, int64_t k) {
  KMeansOptions o;
  o.k = k;
  o.iterations = p.get_int("iterations");
  o.init = p.get_string("init") == "random" ? KMeansInit::Random : KMeansInit::PlusPlus;
  o.local_trials = p.get_int("local-trials");
  o.tolerance = p.get_float("tolerance");
  return o;
}

std::vector<int64_t> kmeanspp_seeds(MatrixViewF x, int64_t k, int64_t trials, const std::vector<int64_t>& fixed,
                                    Rng& rng) {
  check_input(x, fixed, k);
  BlasSingleThread single;
  return run_seeding(x, k, trials, fixed, rng, nullptr, 0).seeds;
}

KMeansResult kmeans_lloyd(MatrixViewF x, const RowMatrixF& initial_centroids, const std::vector<int64_t>& fixed,
                          int64_t iterations, double tolerance, const RunContext& context) {
  const int64_t k = initial_centroids.rows();
  check_input(x, fixed, k);
  SUBSET_CHECK(initial_centroids.cols() == x.cols(), "kmeans", "centroids have " << initial_centroids.cols()
                                                                    << " columns, the points " << x.cols());
  SUBSET_CHECK(iterations >= 0, "iterations", "must be >= 0");
  BlasSingleThread single;
  Lloyd lloyd(x, fixed, k);
  lloyd.centres().topRows(k) = initial_centroids;
  return run_lloyd(lloyd, {}, {}, iterations, tolerance, context, 0, iterations);
}

KMeansResult kmeans_fit(MatrixViewF x, const std::vector<int64_t>& fixed, const KMeansOptions& o,
                        const RunContext& context) {
  const int64_t n = x.rows(), k = o.k;
  check_input(x, fixed, k);
  SUBSET_CHECK(o.iterations >= 1, "iterations", "must be >= 1, got " << o.iterations);
  SUBSET_CHECK(o.local_trials >= 0, "local-trials", "must be >= 0, got " << o.local_trials);
  SUBSET_CHECK(o.tolerance >= 0.0, "tolerance", "must be >= 0, got " << o.tolerance);
  Rng rng(context.seed);
  BlasSingleThread single;
  Lloyd lloyd(x, fixed, k);
  std::vector<int32_t> label;
  std::vector<double> dist;
  std::vector<int64_t> initial;
  int64_t done = 0, total = o.iterations;
  int64_t seeding_distances = 0, seeding_brute = 0;
  if (o.init == KMeansInit::PlusPlus) {
    total += k;
    SeedRun sr = run_seeding(x, k, o.trials(), fixed, rng, &context, total);
    initial = std::move(sr.seeds);
    seeding_distances = sr.distances;
    seeding_brute = sr.brute;
    // Seeding centres are (fixed..., seeds...); Lloyd columns are (seeds..., fixed...).
    const auto F = static_cast<int32_t>(fixed.size());
    const auto K = static_cast<int32_t>(k);
    label.resize(sz(n));
    dist.resize(sz(n));
    for (int64_t i = 0; i < n; ++i) {
      const int32_t o_ = sr.owner[sz(i)];
      label[sz(i)] = o_ < F ? K + o_ : o_ - F;
      dist[sz(i)] = sr.d2[sz(i)];
    }
    done = k;
  } else {
    std::vector<int64_t> excluded = fixed;
    std::sort(excluded.begin(), excluded.end());
    initial = sample_without_replacement(n - static_cast<int64_t>(excluded.size()), k, rng);
    rank_to_index(initial, excluded);
  }
  for (int64_t j = 0; j < k; ++j) std::copy_n(lloyd.row(initial[sz(j)]), x.cols(), lloyd.centres().row(j).data());
  KMeansResult res =
      run_lloyd(lloyd, std::move(label), std::move(dist), o.iterations, o.tolerance, context, done, total);
  res.initial = std::move(initial);
  res.seeding_distances = seeding_distances;
  res.seeding_distances_brute = seeding_brute;
  return res;
}

// ---------------------------------------------------------------------------------------------

ParamSchema KMeansSelector::params() {
  ParamSchema s("kmeans");
  s.add_int("iterations", 20, "Lloyd iterations (assign every point, move every centroid to its cluster's mean), at most",
            1)
      .add_choice("init", "k-means++",
                  "initial centroids: k-means++ seeding, or k distinct points drawn uniformly",
                  {"k-means++", "random"})
      .add_int("local-trials", 0,
               "k-means++ candidates drawn per centre, keeping the one that lowers the objective most "
               "(0: 2 + floor(ln k), as scikit-learn; 1: plain k-means++)",
               0, 1000)
      .add_float("tolerance", 0.0,
                 "stop when an iteration lowers the inertia by at most this fraction of it (0: only when the "
                 "assignment repeats)",
                 at_least(0.0), less_than(1.0));
  return s;
}

KMeansSelector::KMeansSelector(const ParamMap& p) : options_(KMeansOptions::from_params(p, 1)) {}

KMeansResult KMeansSelector::fit(const SelectionRequest& request, const RunContext& context) const {
  SUBSET_CHECK(request.has_features() && request.dim >= 1, "kmeans", "method needs features");
  KMeansOptions o = options_;
  o.k = request.budget;
  return kmeans_fit(request.feature_view(), request.already_selected, o, context);
}

Selection KMeansSelector::to_selection(const KMeansResult& r) {
  Selection out;
  out.indices = r.representatives;
  out.weights.reserve(r.cluster_sizes.size());
  for (int64_t c : r.cluster_sizes) out.weights.push_back(static_cast<float>(c));
  out.centroids = r.centroids;
  out.stats["inertia"] = r.inertia;
  out.stats["initial_inertia"] = r.initial_inertia;
  out.stats["iterations"] = r.iterations;
  out.stats["converged"] = r.converged;
  out.stats["relocated_clusters"] = r.relocated;
  out.stats["seeding_distances"] = r.seeding_distances;
  out.stats["seeding_distances_brute_force"] = r.seeding_distances_brute;
  out.stats["representative_full_scans"] = r.representative_scans;
  out.stats["assignments_skipped"] = r.points_skipped;
  return out;
}

Selection KMeansSelector::select(const SelectionRequest& request, const RunContext& context) const {
  return to_selection(fit(request, context));
}

}  // namespace subset::select
