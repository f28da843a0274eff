#include "libsubset/workflows/al/strategies.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "libsubset/core/edit_distance.h"
#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/registry.h"

namespace subset::workflows::al {
namespace {

double entropy_of(const float* p, int64_t c) {
  double h = 0;
  for (int64_t k = 0; k < c; ++k)
    if (p[k] > 0) h -= static_cast<double>(p[k]) * std::log(static_cast<double>(p[k]));
  return h;
}

// Runs a select method over points [0, n) with rows [m, n) already selected; picks are candidates.
Pick run_selector(const char* method, const float* points, int64_t n, int64_t dim, int64_t m, int64_t budget,
                  uint64_t seed) {
  Pick out;
  budget = std::min(budget, m);
  if (budget <= 0) return out;
  const select::MethodSpec& spec = select::method(method);
  const auto selector = select::make_selector(method, spec.params.resolve({}));
  select::SelectionRequest request;
  request.n = n;
  request.features = points;
  request.dim = dim;
  request.budget = budget;
  request.already_selected.resize(static_cast<size_t>(n - m));
  std::iota(request.already_selected.begin(), request.already_selected.end(), m);
  select::validate_request(spec, request);
  select::RunContext context;
  context.seed = seed;
  const select::Selection s = selector->select(request, context);
  out.positions = s.indices;
  out.scores = s.scores;
  out.scores.resize(out.positions.size(), 0.0f);
  return out;
}

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names{"random", "entropy", "margin", "least-confidence",
                                              "bald",   "coreset", "badge",  "typiclust"};
  return names;
}

StrategyNeeds strategy_needs(const std::string& s) {
  StrategyNeeds n;
  if (s == "random") return n;
  if (s == "typiclust") {
    n.features = true;
    return n;
  }
  n.proxy = true;
  if (s == "entropy" || s == "margin" || s == "least-confidence") {
    n.probabilities = true;
    return n;
  }
  if (s == "bald") {
    n.passes = true;
    return n;
  }
  if (s == "coreset") {
    n.embeddings = n.labelled_embeddings = true;
    return n;
  }
  if (s == "badge") {
    n.probabilities = n.embeddings = true;
    return n;
  }
  std::string known;
  for (const auto& name : strategy_names()) known += (known.empty() ? "" : ", ") + name;
  SUBSET_FAIL_PARAM("strategy", "unknown strategy '" << s << "' (known: " << known << ")" << did_you_mean(s, strategy_names()));
}

std::vector<float> uncertainty_scores(const std::string& strategy, const float* probs, int64_t m, int64_t c) {
  std::vector<float> out(static_cast<size_t>(m));
  const bool entropy = strategy == "entropy", margin = strategy == "margin";
  SUBSET_CHECK_PARAM(entropy || margin || strategy == "least-confidence", "strategy",
                     "'" << strategy << "' does not score by uncertainty");
  for (int64_t i = 0; i < m; ++i) {
    const float* p = probs + i * c;
    if (entropy) {
      out[static_cast<size_t>(i)] = static_cast<float>(entropy_of(p, c));
      continue;
    }
    float first = -1, second = -1;
    for (int64_t k = 0; k < c; ++k) {
      if (p[k] > first) {
        second = first;
        first = p[k];
      } else if (p[k] > second) {
        second = p[k];
      }
    }
    if (!margin) out[static_cast<size_t>(i)] = 1.0f - first;
    else out[static_cast<size_t>(i)] = c < 2 ? 0.0f : 1.0f - (first - second);
  }
  return out;
}

std::vector<float> bald_scores(const float* probs, int64_t passes, int64_t m, int64_t c) {
  std::vector<float> out(static_cast<size_t>(m));
  std::vector<float> mean(static_cast<size_t>(c));
  for (int64_t i = 0; i < m; ++i) {
    std::fill(mean.begin(), mean.end(), 0.0f);
    double mean_entropy = 0;
    for (int64_t t = 0; t < passes; ++t) {
      const float* p = probs + (t * m + i) * c;
      for (int64_t k = 0; k < c; ++k) mean[static_cast<size_t>(k)] += p[k] / static_cast<float>(passes);
      mean_entropy += entropy_of(p, c) / static_cast<double>(passes);
    }
    // Rounding can make the difference of two nearly equal entropies slightly negative.
    out[static_cast<size_t>(i)] = static_cast<float>(std::max(0.0, entropy_of(mean.data(), c) - mean_entropy));
  }
  return out;
}

Pick top_scores(const std::vector<float>& scores, int64_t budget) {
  const int64_t m = static_cast<int64_t>(scores.size());
  const int64_t b = std::max<int64_t>(0, std::min(budget, m));
  std::vector<int64_t> order(static_cast<size_t>(m));
  std::iota(order.begin(), order.end(), 0);
  const auto before = [&](int64_t a, int64_t z) {
    const float sa = scores[static_cast<size_t>(a)], sz = scores[static_cast<size_t>(z)];
    if (std::isnan(sa) != std::isnan(sz)) return std::isnan(sz);
    if (!std::isnan(sa) && sa != sz) return sa > sz;
    return a < z;
  };
  std::partial_sort(order.begin(), order.begin() + b, order.end(), before);
  Pick out;
  out.positions.assign(order.begin(), order.begin() + b);
  for (int64_t p : out.positions) out.scores.push_back(scores[static_cast<size_t>(p)]);
  return out;
}

Pick random_pick(int64_t m, int64_t budget, uint64_t seed) {
  const int64_t b = std::max<int64_t>(0, std::min(budget, m));
  std::vector<int64_t> perm(static_cast<size_t>(m));
  std::iota(perm.begin(), perm.end(), 0);
  Rng rng(seed);
  Pick out;
  for (int64_t i = 0; i < b; ++i) {
    const int64_t j = i + static_cast<int64_t>(rng.uniform_index(static_cast<uint64_t>(m - i)));
    std::swap(perm[static_cast<size_t>(i)], perm[static_cast<size_t>(j)]);
    out.positions.push_back(perm[static_cast<size_t>(i)]);
    out.scores.push_back(0.0f);
  }
  return out;
}

Pick coreset_pick(const float* points, int64_t n, int64_t dim, int64_t m, int64_t budget, uint64_t seed) {
  return run_selector("kcenter", points, n, dim, m, budget, seed);
}

Pick typiclust_pick(const float* points, int64_t n, int64_t dim, int64_t m, int64_t budget, uint64_t seed) {
  return run_selector("typiclust", points, n, dim, m, budget, seed);
}

Pick badge_pick(const float* probs, const float* embeddings, int64_t m, int64_t c, int64_t dim, int64_t budget,
                uint64_t seed) {
  Pick out;
  const int64_t b = std::max<int64_t>(0, std::min(budget, m));
  if (b == 0) return out;
  // a_i = p_i - onehot(argmax p_i), kept whole (c values a row), and the squared norms of a and h.
  std::vector<float> a(probs, probs + m * c);
  std::vector<double> a2(static_cast<size_t>(m)), h2(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    float* ai = a.data() + i * c;
    const int64_t top = std::max_element(ai, ai + c) - ai;
    ai[top] -= 1.0f;
    double sa = 0, sh = 0;
    for (int64_t k = 0; k < c; ++k) sa += static_cast<double>(ai[k]) * ai[k];
    const float* hi = embeddings + i * dim;
    for (int64_t k = 0; k < dim; ++k) sh += static_cast<double>(hi[k]) * hi[k];
    a2[static_cast<size_t>(i)] = sa;
    h2[static_cast<size_t>(i)] = sh;
  }
  std::vector<double> d2(static_cast<size_t>(m), std::numeric_limits<double>::infinity());
  std::vector<char> taken(static_cast<size_t>(m), 0);
  int64_t centre = 0;
  for (int64_t i = 1; i < m; ++i)
    if (a2[static_cast<size_t>(i)] * h2[static_cast<size_t>(i)] >
        a2[static_cast<size_t>(centre)] * h2[static_cast<size_t>(centre)])
      centre = i;
  double score = std::sqrt(a2[static_cast<size_t>(centre)] * h2[static_cast<size_t>(centre)]);
  Rng rng(seed);
  for (int64_t pick = 0;; ++pick) {
    out.positions.push_back(centre);
    out.scores.push_back(static_cast<float>(score));
    taken[static_cast<size_t>(centre)] = 1;
    d2[static_cast<size_t>(centre)] = 0;
    if (pick + 1 == b) break;
    const float* ac = a.data() + centre * c;
    const float* hc = embeddings + centre * dim;
    const double self = a2[static_cast<size_t>(centre)] * h2[static_cast<size_t>(centre)];
    double total = 0;
    for (int64_t i = 0; i < m; ++i) {
      if (taken[static_cast<size_t>(i)]) continue;
      double aa = 0, hh = 0;
      const float* ai = a.data() + i * c;
      for (int64_t k = 0; k < c; ++k) aa += static_cast<double>(ai[k]) * ac[k];
      const float* hi = embeddings + i * dim;
      for (int64_t k = 0; k < dim; ++k) hh += static_cast<double>(hi[k]) * hc[k];
      const double d = std::max(0.0, a2[static_cast<size_t>(i)] * h2[static_cast<size_t>(i)] + self - 2 * aa * hh);
      double& di = d2[static_cast<size_t>(i)];
      if (d < di) di = d;
      total += di;
    }
    const double u = rng.uniform01() * total;
    centre = -1;
    double running = 0;
    for (int64_t i = 0; i < m && centre < 0; ++i) {
      if (taken[static_cast<size_t>(i)]) continue;
      running += d2[static_cast<size_t>(i)];
      if (running > u) centre = i;
    }
    if (total == 0) {  // duplicates only: the lowest open position
      for (int64_t i = 0; i < m && centre < 0; ++i)
        if (!taken[static_cast<size_t>(i)]) centre = i;
    } else if (centre < 0) {  // rounding left u at the very end of the running sum
      for (int64_t i = m - 1; i >= 0 && centre < 0; --i)
        if (!taken[static_cast<size_t>(i)] && d2[static_cast<size_t>(i)] > 0) centre = i;
    }
    score = std::sqrt(d2[static_cast<size_t>(centre)]);
  }
  return out;
}

}  // namespace subset::workflows::al
