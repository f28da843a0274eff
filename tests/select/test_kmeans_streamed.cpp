// Tests for k-means on features left on disk (select/kmeans_streamed.cpp): the in-memory kmeans_fit
// (itself checked against brute force in test_kmeans.cpp) is the oracle. Seeds, centroids (bit for
// bit), assignment, sizes, inertia, iterations and representatives must be the same, for stream
// blocks from one row to more than n (aligned or not with Lloyd's sgemm blocks), with already
// selected points, random init, plain and many-candidate k-means++, a tolerance, and duplicate
// points (seeding ties, empty clusters, representatives found by scans); the passes over the data
// are counted; bad values are named by their row as in memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/threads.h"
#include "libsubset/select/internal/kmeans.h"
#include "libsubset/select/internal/kmeans_streamed.h"
#include "libsubset/select/kmeans.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/row_blocks.h"
#include "support/point_sets.h"

using namespace subset::select;
using namespace subset::test;

namespace {

KMeansOptions options(int64_t k, int64_t iterations = 20, KMeansInit init = KMeansInit::PlusPlus,
                      int64_t trials = 0, double tolerance = 0.0) {
  KMeansOptions o;
  o.k = k;
  o.iterations = iterations;
  o.init = init;
  o.local_trials = trials;
  o.tolerance = tolerance;
  return o;
}

bool same_bits(const subset::RowMatrixF& a, const subset::RowMatrixF& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.size())) == 0;
}

void check_same(const KMeansResult& mem, const KMeansResult& disk) {
  CHECK(disk.initial == mem.initial);
  CHECK(same_bits(disk.centroids, mem.centroids));
  CHECK(disk.assignment == mem.assignment);
  CHECK(disk.cluster_sizes == mem.cluster_sizes);
  CHECK(disk.representatives == mem.representatives);
  CHECK(disk.inertia == mem.inertia);
  CHECK(disk.initial_inertia == mem.initial_inertia);
  CHECK(disk.iterations == mem.iterations);
  CHECK(disk.converged == mem.converged);
  CHECK(disk.relocated == mem.relocated);
  CHECK(disk.representative_scans == mem.representative_scans);
  CHECK(disk.points_skipped == mem.points_skipped);
}

struct Both {
  KMeansResult mem, disk;
  int64_t blocks_read = 0;
};

Both fit_both(const Data& d, const std::vector<int64_t>& fixed, const KMeansOptions& o, int64_t block_rows,
              uint64_t seed = 5) {
  CAPTURE(block_rows);
  RunContext ctx;
  ctx.seed = seed;
  Both out;
  out.mem = kmeans_fit(subset::view(d.x.data(), d.n, d.dim), fixed, o, ctx);
  const RowBlocks rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
  out.disk = kmeans_internal::kmeans_fit_streamed(rows, fixed, o, ctx);
  out.blocks_read = rows.blocks_read();
  check_same(out.mem, out.disk);
  return out;
}

// Block sizes: a few rows, sizes that do not divide n or Lloyd's sgemm block (2048 rows for these
// k), exactly n, more than n (one-row blocks: a test of their own, on fewer points).
std::vector<int64_t> block_sizes(int64_t n) { return {61, 613, 2048, n / 3 + 1, n, n + 5}; }

// Each of the `distinct` rows of `base` repeated: ties everywhere, and more centroids than points.
Data repeated(int64_t distinct, int64_t copies, int64_t dim, uint64_t seed) {
  const Data base = gaussian(distinct, dim, seed);
  Data d{distinct * copies, dim, {}};
  for (int64_t c = 0; c < copies; ++c) d.x.insert(d.x.end(), base.x.begin(), base.x.end());
  return d;
}

// Rows sorted by their first coordinate: neighbours share blocks, so a new centre's points lie in
// few of them.
Data sorted_rows(Data d) {
  std::vector<int64_t> order(static_cast<size_t>(d.n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return d.x[static_cast<size_t>(a * d.dim)] < d.x[static_cast<size_t>(b * d.dim)];
  });
  std::vector<float> x;
  for (int64_t i : order) x.insert(x.end(), d.x.begin() + i * d.dim, d.x.begin() + (i + 1) * d.dim);
  d.x = std::move(x);
  return d;
}

}  // namespace

TEST_CASE("kmeans streamed: the in-memory result bit for bit, for every block size") {
  const Data sets[] = {gaussian(4500, 6, 1), clustered(4300, 17, 12, 2), grid(4100, 5, 4, 3), pixels(2500, 40, 4)};
  for (const Data& d : sets) {
    CAPTURE(d.dim);
    for (int64_t b : block_sizes(d.n)) fit_both(d, {}, options(25, 8), b);
  }
}

TEST_CASE("kmeans streamed: one-row and seven-row blocks") {
  const Data d = clustered(300, 9, 6, 7);
  const Data twins = repeated(20, 15, 3, 8);
  for (int64_t b : {1, 7}) {
    fit_both(d, {}, options(12, 6), b);
    fit_both(d, {4, 100, 299}, options(12, 6, KMeansInit::Random), b);
    fit_both(twins, {}, options(25, 6), b);
    fit_both(twins, {3}, options(25, 6, KMeansInit::Random), b);
  }
}

TEST_CASE("kmeans streamed: already-selected points, random init, trials, tolerance") {
  const Data d = clustered(5000, 12, 30, 11);
  std::vector<int64_t> fixed;
  for (int64_t i = 3; i < d.n; i += 401) fixed.push_back(i);
  for (int64_t b : {int64_t{333}, int64_t{2048}, d.n}) {
    SUBCASE("already selected") { fit_both(d, fixed, options(20, 10), b); }
    SUBCASE("random init") {
      fit_both(d, {}, options(20, 10, KMeansInit::Random), b);
      fit_both(d, fixed, options(20, 10, KMeansInit::Random), b);
    }
    SUBCASE("plain k-means++ (one trial)") { fit_both(d, fixed, options(20, 10, KMeansInit::PlusPlus, 1), b); }
    SUBCASE("more candidates than one pass takes") {
      REQUIRE(20 > kmeans_internal::kCandidatesPerPass);
      fit_both(d, {}, options(15, 4, KMeansInit::PlusPlus, 20), b);
    }
    SUBCASE("tolerance") {
      const Both r = fit_both(d, {}, options(20, 30, KMeansInit::PlusPlus, 0, 0.01), b);
      CHECK(r.mem.converged);
    }
  }
}

TEST_CASE("kmeans streamed: duplicate points (ties, empty clusters, representatives by scans)") {
  // 40 distinct points, each 60 times: beyond 40 centres every point coincides with one.
  const Data d = repeated(40, 60, 3, 13);
  int64_t relocated = 0, scans = 0;
  for (int64_t b : {int64_t{61}, int64_t{500}, int64_t{2048}, d.n + 1}) {
    for (int64_t k : {30, 55}) {
      const Both plus = fit_both(d, {}, options(k, 6), b);
      const Both random = fit_both(d, {0, 40, 41}, options(k, 6, KMeansInit::Random), b);
      relocated += plus.mem.relocated + random.mem.relocated;
      scans += plus.mem.representative_scans + random.mem.representative_scans;
    }
  }
  // the cases meant to be covered were
  CHECK(relocated > 0);
  CHECK(scans > 0);
  // small integers: many exactly equal distances
  const Data g = grid(3000, 4, 3, 17);
  for (int64_t b : {int64_t{100}, int64_t{2999}}) {
    fit_both(g, {}, options(40, 8), b);
    fit_both(g, {5, 6}, options(40, 8, KMeansInit::Random), b);
  }
}

TEST_CASE("kmeans streamed: the same at any thread count") {
  const Data d = clustered(4200, 10, 20, 19);
  const KMeansOptions o = options(30, 8);
  RunContext ctx;
  ctx.seed = 2;
  subset::set_threads(2);
  const KMeansResult mem = kmeans_fit(subset::view(d.x.data(), d.n, d.dim), {}, o, ctx);
  subset::set_threads(1);
  const RowBlocks rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 1000);
  const KMeansResult disk = kmeans_internal::kmeans_fit_streamed(rows, {}, o, ctx);
  subset::set_threads(0);
  check_same(mem, disk);
}

TEST_CASE("kmeans streamed: the seeding equals the in-memory one, reading only blocks it cannot rule out") {
  // points along a line, in order: a new centre takes points from its neighbours only
  Data d = gaussian(6000, 3, 23);
  for (int64_t i = 0; i < d.n; ++i)
    for (int64_t j = 1; j < d.dim; ++j) d.x[static_cast<size_t>(i * d.dim + j)] *= 0.01f;
  d = sorted_rows(std::move(d));
  const int64_t k = 40, block_rows = 100;
  for (int64_t trials : {1, 5}) {
    CAPTURE(trials);
    subset::Rng a(9), b(9);
    const kmeans_internal::SeedRun mem =
        kmeans_internal::run_seeding(subset::view(d.x.data(), d.n, d.dim), k, trials, {}, a, nullptr, 0);
    const RowBlocks rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
    std::vector<float> centre_rows;
    const kmeans_internal::SeedRun disk =
        kmeans_internal::run_seeding_streamed(rows, k, trials, {}, b, nullptr, 0, &centre_rows);
    CHECK(disk.seeds == mem.seeds);
    CHECK(disk.owner == mem.owner);
    CHECK(disk.d2 == mem.d2);
    REQUIRE(centre_rows.size() == static_cast<size_t>(k * d.dim));
    for (int64_t j = 0; j < k; ++j)
      CHECK(std::equal(centre_rows.begin() + j * d.dim, centre_rows.begin() + (j + 1) * d.dim,
                       d.x.begin() + disk.seeds[static_cast<size_t>(j)] * d.dim));
    // one pass for the first centre, then at most one per centre; neighbours share blocks, so
    // most steps read a few of them
    const int64_t blocks = rows.blocks();
    MESSAGE("seeding read " << rows.blocks_read() << " blocks; " << k << " full passes would read " << k * blocks);
    CHECK(rows.blocks_read() >= blocks);
    CHECK(rows.blocks_read() <= blocks + (k - 1) * blocks);
    CHECK(rows.blocks_read() < k * blocks / 2);
  }
}

TEST_CASE("kmeans streamed: one pass per Lloyd iteration, one for the selection") {
  const Data d = clustered(5000, 8, 25, 29);
  const int64_t block_rows = 1000, blocks = 5;
  for (int64_t iterations : {1, 4, 50}) {
    CAPTURE(iterations);
    const Both r = fit_both(d, {}, options(20, iterations, KMeansInit::Random), block_rows);
    REQUIRE(r.mem.relocated == 0);
    REQUIRE(r.mem.representative_scans == 0);
    // an assignment (with the sums of the update after it) per iteration, the final one, and
    // the assignment that found convergence
    CHECK(r.blocks_read == (r.mem.iterations + 1 + (r.mem.converged ? 1 : 0)) * blocks);
    if (iterations == 50) CHECK(r.mem.converged);
  }
  // k-means++: the seeding's passes, then one pass for the first update's sums (the assignment
  // came with the seeds)
  const KMeansOptions o = options(20, 6);
  subset::Rng rng(5);
  const RowBlocks seeding_rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, block_rows);
  kmeans_internal::run_seeding_streamed(seeding_rows, 20, o.trials(), {}, rng, nullptr, 0, nullptr);
  const Both r = fit_both(d, {}, o, block_rows);
  REQUIRE(r.mem.relocated == 0);
  REQUIRE(r.mem.representative_scans == 0);
  CHECK(r.blocks_read ==
        seeding_rows.blocks_read() + (1 + (r.mem.iterations - 1) + 1 + (r.mem.converged ? 1 : 0)) * blocks);
}

TEST_CASE("kmeans streamed: the selector reads from disk when the request says so") {
  const Data d = clustered(3000, 10, 15, 31);
  const MethodSpec& spec = method("kmeans");
  CHECK(spec.streams());
  CHECK(spec.memory_on_disk(1000000, 512, 1000) > spec.memory_on_disk(100000, 512, 1000));
  CHECK(spec.memory_on_disk(1000000, 512, 1000) < 1000000.0 * 512 * 4);  // less than the features
  for (const char* init : {"k-means++", "random"}) {
    const auto sel = spec.create(spec.params.resolve({{"init", init}, {"iterations", "7"}}));
    SelectionRequest r;
    r.n = d.n;
    r.dim = d.dim;
    r.budget = 24;
    r.already_selected = {10, 20, 30};
    r.features = d.x.data();
    const Selection mem = sel->select(r, RunContext{4, nullptr});
    const RowBlocks rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 700);
    r.features = nullptr;
    r.on_disk = &rows;
    validate_request(spec, r);
    const Selection disk = sel->select(r, RunContext{4, nullptr});
    CHECK(disk.indices == mem.indices);
    CHECK(disk.weights == mem.weights);
    CHECK(same_bits(disk.centroids, mem.centroids));
    CHECK(disk.stats.at("inertia").get<double>() == mem.stats.at("inertia").get<double>());
    CHECK(rows.blocks_read() > 0);
  }
}

TEST_CASE("kmeans streamed: progress is reported as in memory") {
  const Data d = clustered(2000, 6, 10, 37);
  std::vector<std::pair<int64_t, int64_t>> mem_reports, disk_reports;
  RunContext ctx;
  ctx.seed = 1;
  ctx.progress = [&](int64_t done, int64_t total) { mem_reports.push_back({done, total}); };
  kmeans_fit(subset::view(d.x.data(), d.n, d.dim), {}, options(10, 5), ctx);
  ctx.progress = [&](int64_t done, int64_t total) { disk_reports.push_back({done, total}); };
  const RowBlocks rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, 300);
  kmeans_internal::kmeans_fit_streamed(rows, {}, options(10, 5), ctx);
  REQUIRE(!disk_reports.empty());
  // the seeding's reports are the same; Lloyd's steps follow timings, but end at the total
  REQUIRE(mem_reports.size() >= 9);
  REQUIRE(disk_reports.size() >= 9);
  CHECK(std::equal(mem_reports.begin(), mem_reports.begin() + 9, disk_reports.begin()));
  CHECK(disk_reports.back().first == disk_reports.back().second);
  for (size_t q = 1; q < disk_reports.size(); ++q)
    CHECK(disk_reports[q].first * disk_reports[q - 1].second >= disk_reports[q - 1].first * disk_reports[q].second);
}

TEST_CASE("kmeans streamed: bad values are named by their row, as in memory") {
  Data d = clustered(500, 4, 3, 41);
  d.x[static_cast<size_t>(417 * 4 + 2)] = std::numeric_limits<float>::quiet_NaN();
  d.x[static_cast<size_t>(450 * 4 + 1)] = std::numeric_limits<float>::infinity();
  const auto message = [&](const std::function<void()>& f) {
    try {
      f();
    } catch (const subset::Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  for (KMeansInit init : {KMeansInit::PlusPlus, KMeansInit::Random}) {
    const std::string mem =
        message([&] { kmeans_fit(subset::view(d.x.data(), d.n, d.dim), {}, options(5, 3, init), RunContext{}); });
    CHECK(mem.find("row 417") != std::string::npos);
    for (int64_t b : {1, 7, 500}) {
      const RowBlocks rows = RowBlocks::of_matrix(d.x.data(), d.n, d.dim, b);
      CHECK(message([&] { kmeans_internal::kmeans_fit_streamed(rows, {}, options(5, 3, init), RunContext{}); }) == mem);
    }
  }
}
