#include "libsubset/transform/pca.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "libsubset/core/communicator.h"
#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/rng.h"
#include "libsubset/linalg/blas_info.h"
#include "libsubset/linalg/product.h"
#include "libsubset/linalg/range_finder.h"
#include "libsubset/linalg/symmetric_eigen.h"

namespace subset::transform {
namespace {

size_t sz(int64_t v) { return static_cast<size_t>(v); }

// Whitening refuses components whose variance is at most this fraction of the first one's.
constexpr double kWhitenFloor = 1e-6;

// Per-column sums of the shifted rows, in double. In a stripe's partial sums they come first, as
// [n, sum (D), sumsq (D)], so that partials add element-wise.
struct Moments {
  int64_t n = 0;
  std::vector<double> sum, sumsq;

  static size_t size(int64_t d) { return 1 + 2 * sz(d); }
  static void add(double* at, const float* x, int64_t rows, int64_t d) {
    double* sum = at + 1;
    double* sumsq = sum + d;
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < d; ++j) {
        const double v = x[i * d + j];
        sum[j] += v;
        sumsq[j] += v * v;
      }
    at[0] += static_cast<double>(rows);
  }
  Moments(const double* at, int64_t d)
      : n(static_cast<int64_t>(at[0])), sum(at + 1, at + 1 + d), sumsq(at + 1 + d, at + 1 + 2 * d) {}
  // Mean of the shifted rows (the offset of the true mean from the shift).
  std::vector<double> offset() const {
    std::vector<double> m(sum.size());
    for (size_t j = 0; j < m.size(); ++j) m[j] = sum[j] / static_cast<double>(n);
    return m;
  }
  // trace of the covariance: sum_j (sum (x_j - s_j)^2 - n m_j^2) / (n - 1).
  double total_variance() const {
    const std::vector<double> m = offset();
    double t = 0;
    for (size_t j = 0; j < m.size(); ++j) t += sumsq[j] - static_cast<double>(n) * m[j] * m[j];
    return std::max(0.0, t / static_cast<double>(n - 1));
  }
};

// The shift the rows are summed around: the mean of block 0. With the shift that close to the
// mean, X^T X of the shifted rows loses nothing to cancellation when the mean is taken out at the
// end. Every rank needs it before its first sum: rank 0 reads block 0 and broadcasts it.
std::vector<float> shift_of(const RowSource& source) {
  std::vector<float> shift;
  if (source.comm->rank() == 0)
    source.for_blocks(0, 1, [&](int64_t, MatrixViewF block) {
      const Eigen::RowVectorXd mean = block.cast<double>().colwise().mean();
      for (int64_t j = 0; j < source.dim; ++j) shift.push_back(static_cast<float>(mean(j)));
    });
  broadcast_vector(*source.comm, shift, 0);
  return shift;
}

// fn(count, rows) for blocks [first, end) of `source`, every row minus `shift` (float32).
void for_shifted_blocks(const RowSource& source, int64_t first, int64_t end, const std::vector<float>& shift,
                        const std::function<void(int64_t, const float*)>& fn) {
  const int64_t d = source.dim;
  std::vector<float> buffer;
  source.for_blocks(first, end, [&](int64_t, MatrixViewF block) {
    check_interrupted();
    const int64_t n = block.rows();
    buffer.resize(sz(n * d));
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < d; ++j) buffer[sz(i * d + j)] = block(i, j) - shift[sz(j)];
    fn(n, buffer.data());
  });
}

// The sum over all blocks of `size` doubles that sum_stripe(first, end, partial) adds into
// `partial` (zeroed) for blocks [first, end), the same bits on every rank of source.comm.
//
// A running sum over the blocks cannot be split among ranks, so the arithmetic is fixed whatever
// their number: the S = min(kFitStripes, blocks) stripes are share_of(blocks, s, S), each summed
// from zero, and the total adds the stripes' partials in stripe order. Rank r of P sums the
// stripes share_of(S, r, P): rank 0 adds each into the total at once, a later rank keeps its
// partials until the running total reaches it from the rank before (accumulate_in_rank_order).
std::vector<double> sum_over_stripes(const RowSource& source, size_t size,
                                     const std::function<void(int64_t, int64_t, std::vector<double>&)>& sum_stripe) {
  const Communicator& comm = *source.comm;
  const int64_t stripes = std::min(kFitStripes, source.blocks);
  const auto [first, end] = share_of(stripes, comm.rank(), comm.size());
  std::vector<double> total(size, 0.0);
  std::vector<std::vector<double>> kept;
  const auto add = [](std::vector<double>& into, const std::vector<double>& partial) {
    for (size_t i = 0; i < into.size(); ++i) into[i] += partial[i];
  };
  for (int64_t s = first; s < end; ++s) {
    const auto [b0, b1] = share_of(source.blocks, static_cast<int>(s), static_cast<int>(stripes));
    std::vector<double> partial(size, 0.0);
    sum_stripe(b0, b1, partial);
    if (comm.rank() == 0) add(total, partial);
    else kept.push_back(std::move(partial));
  }
  accumulate_in_rank_order(comm, total, [&](std::vector<double>& running) {
    for (const auto& partial : kept) add(running, partial);
  });
  return total;
}

// Flips v so that its entry of largest magnitude (the first such) is positive.
void fix_sign(std::vector<double>& v) {
  size_t at = 0;
  for (size_t j = 1; j < v.size(); ++j)
    if (std::abs(v[j]) > std::abs(v[at])) at = j;
  if (v[at] < 0)
    for (double& x : v) x = -x;
}

}  // namespace

ParamSchema Pca::params() {
  ParamSchema s("pca");
  s.add_choice("solver", "auto",
               "exact (covariance + LAPACK eigendecomposition), randomized (Halko et al.), or auto: exact when D <= " +
                   std::to_string(kAutoExactMaxDim),
               {"auto", "exact", "randomized"});
  s.add_bool("whiten", false, "scale every output to unit variance");
  s.add_int("power-iterations", 7, "randomized solver: power iterations (one pass over the rows each)", 0, 100);
  s.add_int("oversamples", 10, "randomized solver: extra dimensions of the random subspace", 0, 1000);
  return s;
}

Pca::Pca(const ParamMap& params)
    : solver_(params.get_string("solver")),
      whiten_(params.get_bool("whiten")),
      power_iterations_(params.get_int("power-iterations")),
      oversamples_(params.get_int("oversamples")) {}

std::string Pca::resolve_solver(const std::string& solver, int64_t d, bool by_variance) {
  if (solver != "auto") return solver;
  return by_variance || d <= kAutoExactMaxDim ? "exact" : "randomized";
}

double Pca::covariance_bytes(int64_t d, int ranks) {
  const double square = static_cast<double>(d) * static_cast<double>(d) * sizeof(double);
  if (ranks <= 1) return 2.0 * square;
  const auto kept = static_cast<double>((kFitStripes + ranks - 1) / ranks);
  return std::max(2.0, 1.5 + 0.5 * kept) * square;
}

void Pca::fit(const RowSource& rows, const FitOptions& options) {
  const int64_t d = rows.dim;
  const std::string solver = resolve_solver(solver_, d, options.variance.has_value());
  SUBSET_CHECK(rows.rows >= 2 && rows.blocks >= 1, "pca", "needs at least 2 rows, got " << rows.rows);
  const std::vector<float> shift = shift_of(rows);
  std::optional<Moments> moments;
  std::vector<double> mean(sz(d));
  std::vector<std::vector<double>> components;
  std::vector<double> variances;

  if (solver == "exact") {
    // A stripe's partial: the moments, then the upper triangle of its X^T X, row by row (half the
    // D x D that a rank keeps per stripe). `s` is each stripe's X^T X, then the covariance.
    std::vector<double> s(sz(d * d), 0.0);
    {
      std::vector<double> total =
          sum_over_stripes(rows, Moments::size(d) + sz(d * (d + 1) / 2), [&](int64_t first, int64_t end, std::vector<double>& partial) {
            std::fill(s.begin(), s.end(), 0.0);
            for_shifted_blocks(rows, first, end, shift, [&](int64_t n, const float* x) {
              Moments::add(partial.data(), x, n, d);
              linalg::accumulate_gram(x, n, d, s.data());
            });
            double* upper = partial.data() + Moments::size(d);
            for (int64_t i = 0; i < d; ++i)
              for (int64_t j = i; j < d; ++j) *upper++ = s[sz(i * d + j)];
          });
      moments.emplace(total.data(), d);
      // The lower triangle (never read by the eigensolver) is left zero, not the last stripe's.
      std::fill(s.begin(), s.end(), 0.0);
      const double* upper = total.data() + Moments::size(d);
      for (int64_t i = 0; i < d; ++i)
        for (int64_t j = i; j < d; ++j) s[sz(i * d + j)] = *upper++;
    }
    const std::vector<double> m = moments->offset();
    const double n = static_cast<double>(moments->n);
    for (int64_t i = 0; i < d; ++i)
      for (int64_t j = i; j < d; ++j) s[sz(i * d + j)] = (s[sz(i * d + j)] - n * m[sz(i)] * m[sz(j)]) / (n - 1);
    const double total = moments->total_variance();
    int64_t k = options.dim;
    if (options.variance) {
      // All eigenvalues first: the fewest leading ones whose sum reaches V of the total.
      std::vector<double> a = s, all;
      linalg::symmetric_eigen(a, d, 1, d, all, nullptr, "pca");
      const int64_t cap = std::min(d, moments->n);
      double sum = 0;
      for (k = 1; k < cap; ++k) {
        sum += std::max(0.0, all[sz(d - k)]);
        if (sum >= *options.variance * total) break;
      }
    }
    std::vector<double> values, vectors;
    linalg::symmetric_eigen(s, d, d - k + 1, d, values, &vectors, "pca");
    for (int64_t c = k - 1; c >= 0; --c) {  // descending
      variances.push_back(std::max(0.0, values[sz(c)]));
      components.emplace_back(vectors.begin() + c * d, vectors.begin() + (c + 1) * d);
    }
    for (int64_t j = 0; j < d; ++j) mean[sz(j)] = static_cast<double>(shift[sz(j)]) + m[sz(j)];
    for (auto& v : components) fix_sign(v);
    set_fitted(mean, components, variances, total, solver);
    return;
  }

  // Randomized: C Q for a d x l basis Q costs one pass, P = X Q then Z = X^T P per piece. The
  // first pass sums the moments too (a partial's head).
  const int64_t k = options.dim, l = std::min(d, k + oversamples_);
  auto covariance_times = [&](const Eigen::MatrixXd& q) {
    std::vector<float> q_rows(sz(l * d));
    for (int64_t c = 0; c < l; ++c)
      for (int64_t j = 0; j < d; ++j) q_rows[sz(c * d + j)] = static_cast<float>(q(j, c));
    const bool first_pass = !moments;
    const size_t head = first_pass ? Moments::size(d) : 0;
    std::vector<float> p;
    const std::vector<double> total =
        sum_over_stripes(rows, head + sz(l * d), [&](int64_t first, int64_t end, std::vector<double>& partial) {
          for_shifted_blocks(rows, first, end, shift, [&](int64_t n, const float* x) {
            if (first_pass) Moments::add(partial.data(), x, n, d);
            p.resize(sz(n * l));
            linalg::project(x, n, d, nullptr, q_rows.data(), l, p.data());
            linalg::accumulate_transposed_product(p.data(), l, x, n, d, partial.data() + head);
          });
        });
    if (first_pass) moments.emplace(total.data(), d);
    const double* z = total.data() + head;
    // S Q is for the shifted rows; C Q = (S Q - n m (m^T Q)) / (n - 1).
    const std::vector<double> m = moments->offset();
    const double n = static_cast<double>(moments->n);
    const Eigen::Map<const Eigen::VectorXd> mv(m.data(), d);
    const Eigen::RowVectorXd mq = mv.transpose() * q;
    Eigen::MatrixXd cq(d, l);
    for (int64_t c = 0; c < l; ++c)
      for (int64_t j = 0; j < d; ++j) cq(j, c) = (z[sz(c * d + j)] - n * m[sz(j)] * mq(c)) / (n - 1);
    return cq;
  };
  Rng rng(options.seed);
  Eigen::MatrixXd y(d, l);
  for (int64_t c = 0; c < l; ++c)
    for (int64_t j = 0; j < d; ++j) y(j, c) = rng.normal();
  const auto on_round = [&](int64_t i) {
    if (options.status)
      options.status("pca: power iteration " + std::to_string(i) + "/" + std::to_string(power_iterations_));
  };
  const Eigen::MatrixXd q = linalg::randomized_range(covariance_times, y, power_iterations_ + 1, true, on_round);
  const Eigen::MatrixXd cq = covariance_times(q);
  Eigen::MatrixXd t = q.transpose() * cq;
  t = (0.5 * (t + t.transpose())).eval();
  const linalg::RitzPairs ritz = linalg::rayleigh_ritz(q, t);
  for (int64_t c = 0; c < k; ++c) {
    variances.push_back(std::max(0.0, ritz.values(c)));
    components.emplace_back(ritz.vectors.col(c).data(), ritz.vectors.col(c).data() + d);
  }
  const std::vector<double> m = moments->offset();
  for (int64_t j = 0; j < d; ++j) mean[sz(j)] = static_cast<double>(shift[sz(j)]) + m[sz(j)];
  for (auto& v : components) fix_sign(v);
  set_fitted(mean, components, variances, moments->total_variance(), solver);
}

void Pca::set_fitted(const std::vector<double>& mean, const std::vector<std::vector<double>>& components,
                     const std::vector<double>& variances, double total_variance, const std::string& solver) {
  d_ = static_cast<int64_t>(mean.size());
  k_ = static_cast<int64_t>(components.size());
  mean_.assign(mean.begin(), mean.end());
  components_.clear();
  for (const auto& v : components) components_.insert(components_.end(), v.begin(), v.end());
  variance_.assign(variances.begin(), variances.end());
  std::vector<double> ratios;
  double ratio_sum = 0;
  for (double v : variances) {
    ratios.push_back(total_variance > 0 ? v / total_variance : 0.0);
    ratio_sum += ratios.back();
  }
  stats_ = {{"solver", solver},
            {"explained_variance", variances},
            {"explained_variance_ratio", ratios},
            {"explained_variance_ratio_sum", ratio_sum},
            {"total_variance", total_variance},
            {"blas", linalg::blas_info().summary()}};
  prepare("pca");
}

void Pca::prepare(const std::string& where) {
  forward_ = components_;
  inverse_ = components_;
  if (!whiten_) return;
  // A variance below kWhitenFloor of the first is rounding noise of float32 data, not a direction
  // of the data: scaling it to unit variance would blow the noise up.
  const double floor = kWhitenFloor * static_cast<double>(variance_.empty() ? 0.0f : variance_.front());
  for (int64_t c = 0; c < k_; ++c) {
    const double v = variance_[sz(c)];
    SUBSET_CHECK(v > floor && std::isfinite(v), where,
                 "cannot whiten: component " << c << " has explained variance " << v
                                             << ", no more than rounding noise (the data has rank " << c
                                             << " after centring; ask for fewer components)");
    const double scale = std::sqrt(v);
    for (int64_t j = 0; j < d_; ++j) {
      const size_t at = sz(c * d_ + j);
      forward_[at] = static_cast<float>(static_cast<double>(components_[at]) / scale);
      inverse_[at] = static_cast<float>(static_cast<double>(components_[at]) * scale);
    }
  }
}

void Pca::apply(MatrixViewF rows, float* out) const {
  linalg::project(rows.data(), rows.rows(), d_, mean_.data(), forward_.data(), k_, out);
}

void Pca::reconstruct(MatrixViewF codes, float* out) const {
  linalg::expand(codes.data(), codes.rows(), k_, inverse_.data(), d_, mean_.data(), out);
}

ModelState Pca::save() const {
  ModelState s;
  s.method = "pca";
  s.input_dim = d_;
  s.output_dim = k_;
  s.params = {{"solver", solver_}, {"whiten", whiten_}, {"power-iterations", power_iterations_},
              {"oversamples", oversamples_}};
  s.stats = stats_;
  s.arrays["mean"] = FloatArray{{d_}, mean_};
  s.arrays["components"] = FloatArray{{k_, d_}, components_};
  s.arrays["explained_variance"] = FloatArray{{k_}, variance_};
  return s;
}

void Pca::load(const ModelState& state, const std::string& where) {
  d_ = state.input_dim;
  k_ = state.output_dim;
  mean_ = state.array("mean", {d_}, where).values;
  components_ = state.array("components", {k_, d_}, where).values;
  variance_ = state.array("explained_variance", {k_}, where).values;
  stats_ = state.stats;
  prepare(where);
}

}  // namespace subset::transform
