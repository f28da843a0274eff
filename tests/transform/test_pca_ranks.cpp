// Tests for PCA's fit on several ranks (transform/pca.h, "Sums in stripes"): on 2 and 3 ranks, here
// threads (support/thread_ranks.h), every rank must fit the one-process model bit for bit, for both
// solvers, whatever the blocks: more than the stripes, fewer, fewer than the ranks, one row each.
// The one-process fit is the reference (test_pca.cpp compares it with an SVD oracle); its stripe
// arithmetic is checked here against the documented sums, written out independently.
#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/rng.h"
#include "libsubset/transform/pca.h"
#include "support/thread_ranks.h"

using namespace subset;
using namespace subset::transform;
using subset::test::run_on_ranks;

namespace {

// n rows near a 4-dimensional subspace of R^d, off the origin (the shift has work to do).
RowMatrixF data(int64_t n, int64_t d, uint64_t seed) {
  Rng rng(seed);
  Eigen::MatrixXd basis(4, d);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < d; ++j) basis(i, j) = rng.normal();
  RowMatrixF x(n, d);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < d; ++j) {
      double v = 3.0 + 0.1 * rng.normal();
      for (int64_t i = 0; i < 4; ++i) v += std::ldexp(4.0, -static_cast<int>(i)) * basis(i, j) * rng.normal();
      x(r, j) = static_cast<float>(v);
    }
  return x;
}

struct Job {
  std::string solver;
  FitOptions options;
};

Job job(const std::string& solver, int64_t k, std::optional<double> variance = std::nullopt) {
  Job j{solver, {}};
  j.options.dim = variance ? 0 : k;
  j.options.variance = variance;
  j.options.seed = 11;
  return j;
}

// The fitted state on `comm`'s rank, the rows in blocks of block_rows; every block this rank
// reads is appended to `reads` when given.
ModelState fit_on(const Communicator& comm, const RowMatrixF& x, int64_t block_rows, const Job& j,
                  std::vector<int64_t>* reads = nullptr) {
  Pca pca(Pca::params().resolve({{"solver", j.solver}, {"power-iterations", "3"}}));
  RowSource rows = rows_of(view(x), block_rows);
  rows.comm = &comm;
  if (reads) {
    const RowSource inner = rows;
    rows.for_blocks = [inner, reads](int64_t first, int64_t end, const RowSource::BlockFn& fn) {
      for (int64_t b = first; b < end; ++b) reads->push_back(b);
      inner.for_blocks(first, end, fn);
    };
  }
  pca.fit(rows, j.options);
  return pca.save();
}

std::vector<ModelState> on_ranks(int ranks, const RowMatrixF& x, int64_t block_rows, const Job& j,
                                 std::vector<std::vector<int64_t>>* reads = nullptr) {
  std::vector<ModelState> states(static_cast<size_t>(ranks));
  if (reads) reads->assign(static_cast<size_t>(ranks), {});
  run_on_ranks(ranks, [&](const Communicator& comm) {
    const auto r = static_cast<size_t>(comm.rank());
    states[r] = fit_on(comm, x, block_rows, j, reads ? &(*reads)[r] : nullptr);
  });
  return states;
}

// Bit for bit: the float32 arrays, and the stats (doubles, compared exactly).
void check_same(const ModelState& got, const ModelState& want) {
  CHECK(got.input_dim == want.input_dim);
  CHECK(got.output_dim == want.output_dim);
  for (const char* name : {"mean", "components", "explained_variance"}) {
    CAPTURE(name);
    CHECK(got.arrays.at(name).values == want.arrays.at(name).values);
  }
  CHECK(got.stats == want.stats);
}

}  // namespace

TEST_CASE("pca on 2 and 3 ranks: every rank fits the one-process model bit for bit") {
  struct Blocks {
    const char* what;
    int64_t n, block_rows;
  };
  const std::vector<Blocks> cases = {{"more blocks than stripes (43, the last short)", 300, 7},
                                     {"fewer blocks than stripes (8)", 300, 40},
                                     {"fewer blocks than ranks (2)", 300, 150},
                                     {"one block", 300, 8192},
                                     {"blocks of one row (40)", 40, 1}};
  const std::vector<Job> jobs = {job("exact", 3), job("randomized", 3), job("exact", 0, 0.9)};
  for (const Blocks& c : cases) {
    const RowMatrixF x = data(c.n, 12, 5);
    for (const Job& j : jobs) {
      const ModelState one = fit_on(single_process(), x, c.block_rows, j);
      for (const int ranks : {2, 3}) {
        CAPTURE(c.what);
        CAPTURE(j.solver);
        CAPTURE(j.options.variance.has_value());
        CAPTURE(ranks);
        const std::vector<ModelState> states = on_ranks(ranks, x, c.block_rows, j);
        for (const ModelState& s : states) check_same(s, one);
      }
    }
  }
}

TEST_CASE("pca on ranks: each rank reads only its own stripes' blocks, each block once per pass") {
  const RowMatrixF x = data(300, 12, 6);
  const int64_t block_rows = 7, blocks = 43, stripes = kFitStripes;
  for (const Job& j : {job("exact", 3), job("randomized", 3)}) {
    CAPTURE(j.solver);
    const int ranks = 3;
    std::vector<std::vector<int64_t>> reads;
    on_ranks(ranks, x, block_rows, j, &reads);
    // Rank 0 reads block 0 first for the shift, once.
    REQUIRE(!reads[0].empty());
    CHECK(reads[0].front() == 0);
    reads[0].erase(reads[0].begin());
    std::map<int64_t, int64_t> times;
    for (int r = 0; r < ranks; ++r) {
      std::set<int64_t> own;
      const auto [s0, s1] = share_of(stripes, r, ranks);
      for (int64_t s = s0; s < s1; ++s) {
        const auto [b0, b1] = share_of(blocks, static_cast<int>(s), static_cast<int>(stripes));
        for (int64_t b = b0; b < b1; ++b) own.insert(b);
      }
      for (const int64_t b : reads[static_cast<size_t>(r)]) {
        CHECK(own.count(b) == 1);
        ++times[b];
      }
    }
    CHECK(static_cast<int64_t>(times.size()) == blocks);
    const int64_t passes = times[0];
    CHECK(passes == (j.solver == "exact" ? 1 : 3 + 2));
    for (const auto& [b, n] : times) CHECK(n == passes);
  }
}

namespace {

struct Sums {
  double total_variance = 0;
  std::vector<float> mean;
};

// The mean and total variance as pca.h documents them, written out: the rows minus the shift
// (block 0's mean, float32), summed per column in double over `stripes` stripes of consecutive
// blocks, each from zero, the stripes added in stripe order.
Sums striped_sums(const RowMatrixF& x, int64_t block_rows, int64_t stripes) {
  const int64_t n = x.rows(), d = x.cols(), blocks = (n + block_rows - 1) / block_rows;
  const auto at = [](int64_t j) { return static_cast<size_t>(j); };
  const Eigen::RowVectorXd block0_mean = x.topRows(std::min(n, block_rows)).cast<double>().colwise().mean();
  std::vector<float> shift(at(d));
  for (int64_t j = 0; j < d; ++j) shift[at(j)] = static_cast<float>(block0_mean(j));
  std::vector<double> sum(at(d), 0.0), sumsq(at(d), 0.0);
  for (int64_t s = 0; s < stripes; ++s) {
    const auto [b0, b1] = share_of(blocks, static_cast<int>(s), static_cast<int>(stripes));
    std::vector<double> ps(at(d), 0.0), pq(at(d), 0.0);
    for (int64_t i = b0 * block_rows; i < std::min(n, b1 * block_rows); ++i)
      for (int64_t j = 0; j < d; ++j) {
        const double v = static_cast<float>(x(i, j) - shift[at(j)]);
        ps[at(j)] += v;
        pq[at(j)] += v * v;
      }
    for (int64_t j = 0; j < d; ++j) {
      sum[at(j)] += ps[at(j)];
      sumsq[at(j)] += pq[at(j)];
    }
  }
  Sums out;
  double t = 0;
  for (int64_t j = 0; j < d; ++j) {
    const double m = sum[at(j)] / static_cast<double>(n);
    t += sumsq[at(j)] - static_cast<double>(n) * m * m;
    out.mean.push_back(static_cast<float>(static_cast<double>(shift[at(j)]) + m));
  }
  out.total_variance = std::max(0.0, t / static_cast<double>(n - 1));
  return out;
}

}  // namespace

TEST_CASE("pca in one process sums in stripes: the mean and total variance are the documented sums, bit for bit") {
  const RowMatrixF x = data(300, 40, 7);
  bool order_seen = false;
  for (const int64_t block_rows : {int64_t{7}, int64_t{3}, int64_t{1}, int64_t{40}}) {
    CAPTURE(block_rows);
    const int64_t blocks = (x.rows() + block_rows - 1) / block_rows;
    const ModelState fitted = fit_on(single_process(), x, block_rows, job("exact", 3));
    const Sums want = striped_sums(x, block_rows, std::min(kFitStripes, blocks));
    CHECK(fitted.stats["total_variance"].get<double>() == want.total_variance);
    CHECK(fitted.arrays.at("mean").values == want.mean);
    // The comparison sees the grouping: other stripes (or one running sum) give other bits.
    for (const int64_t other : {int64_t{1}, int64_t{8}})
      order_seen = order_seen || striped_sums(x, block_rows, other).total_variance != want.total_variance;
  }
  CHECK(order_seen);
}

TEST_CASE("pca covariance_bytes: 2 D^2 doubles alone or on rank 0, more where a rank keeps its stripes") {
  const double square = 100.0 * 100.0 * sizeof(double);
  CHECK(Pca::covariance_bytes(100, 1) == 2.0 * square);
  CHECK(Pca::covariance_bytes(100, 2) == (1.5 + 0.5 * 8) * square);
  CHECK(Pca::covariance_bytes(100, 3) == (1.5 + 0.5 * 6) * square);
  CHECK(Pca::covariance_bytes(100, 16) == 2.0 * square);
  CHECK(Pca::covariance_bytes(100, 40) == 2.0 * square);
}
