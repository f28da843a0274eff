// The active-learning strategies against oracles: hand-computed uncertainty and BALD scores on small
// probability tables, BADGE against k-means++ on materialised gradient embeddings, core-set against a
// brute-force farthest-first traversal, TypiClust against select's own typiclust.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "libsubset/core/params.h"
#include "libsubset/core/rng.h"
#include "libsubset/workflows/al/strategies.h"

using namespace subset::workflows::al;

namespace {

// probs of 3 rows over 3 classes.
const std::vector<float> kProbs{0.5f, 0.3f, 0.2f,   // row 0
                                1.0f, 0.0f, 0.0f,   // row 1: certain
                                0.4f, 0.4f, 0.2f};  // row 2: a tie at the top

std::vector<float> random_matrix(int64_t n, int64_t d, uint64_t seed) {
  subset::Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n * d));
  for (float& v : x) v = static_cast<float>(rng.normal());
  return x;
}

std::vector<float> softmax_rows(const std::vector<float>& logits, int64_t c) {
  std::vector<float> p(logits.size());
  for (size_t i = 0; i < logits.size(); i += static_cast<size_t>(c)) {
    double sum = 0;
    for (int64_t k = 0; k < c; ++k) sum += std::exp(logits[i + static_cast<size_t>(k)]);
    for (int64_t k = 0; k < c; ++k) p[i + static_cast<size_t>(k)] = static_cast<float>(std::exp(logits[i + static_cast<size_t>(k)]) / sum);
  }
  return p;
}

}  // namespace

TEST_CASE("al strategies: entropy, margin and least-confidence by hand") {
  const auto e = uncertainty_scores("entropy", kProbs.data(), 3, 3);
  CHECK(e[0] == doctest::Approx(-(0.5 * std::log(0.5) + 0.3 * std::log(0.3) + 0.2 * std::log(0.2))).epsilon(1e-6));
  CHECK(e[1] == 0.0f);
  CHECK(e[2] == doctest::Approx(-(2 * 0.4 * std::log(0.4) + 0.2 * std::log(0.2))).epsilon(1e-6));
  const auto m = uncertainty_scores("margin", kProbs.data(), 3, 3);
  CHECK(m[0] == doctest::Approx(0.8));
  CHECK(m[1] == doctest::Approx(0.0));
  CHECK(m[2] == doctest::Approx(1.0));
  const auto lc = uncertainty_scores("least-confidence", kProbs.data(), 3, 3);
  CHECK(lc[0] == doctest::Approx(0.5));
  CHECK(lc[1] == doctest::Approx(0.0));
  CHECK(lc[2] == doctest::Approx(0.6));
  CHECK_THROWS_AS(uncertainty_scores("coreset", kProbs.data(), 3, 3), subset::ParamError);
}

TEST_CASE("al strategies: top scores, highest first, ties and NaN by position") {
  const Pick p = top_scores({0.5f, 0.9f, std::nanf(""), 0.9f, 0.1f}, 4);
  CHECK(p.positions == std::vector<int64_t>{1, 3, 0, 4});
  CHECK(top_scores({1, 2}, 5).positions == std::vector<int64_t>{1, 0});
  CHECK(top_scores({std::nanf(""), 1}, 2).positions == std::vector<int64_t>{1, 0});
}

TEST_CASE("al strategies: BALD is H(mean) - mean H, by hand") {
  // Two passes that disagree completely about row 0 and agree about row 1.
  const std::vector<float> probs{1, 0, 0.5f, 0.5f,   // pass 0: rows 0, 1
                                 0, 1, 0.5f, 0.5f};  // pass 1
  const auto b = bald_scores(probs.data(), 2, 2, 2);
  CHECK(b[0] == doctest::Approx(std::log(2.0)));
  CHECK(b[1] == doctest::Approx(0.0).epsilon(1e-7));
}

TEST_CASE("al strategies: random draws distinct positions, seeded") {
  const Pick a = random_pick(50, 20, 7), b = random_pick(50, 20, 7), c = random_pick(50, 20, 8);
  CHECK(a.positions == b.positions);
  CHECK(a.positions != c.positions);
  CHECK(std::set<int64_t>(a.positions.begin(), a.positions.end()).size() == 20);
  CHECK(random_pick(3, 10, 1).positions.size() == 3);
}

TEST_CASE("al strategies: BADGE equals k-means++ on materialised gradient embeddings") {
  const int64_t m = 40, c = 4, h = 5, budget = 12;
  const std::vector<float> probs = softmax_rows(random_matrix(m, c, 1), c);
  std::vector<float> emb = random_matrix(m, h, 2);
  for (float& v : emb) v = std::max(v, 0.0f);  // ReLU activations
  // g_i = (p_i - onehot(argmax p_i)) (x) h_i, formed explicitly.
  std::vector<std::vector<double>> g(static_cast<size_t>(m));
  for (int64_t i = 0; i < m; ++i) {
    std::vector<double> a(probs.begin() + i * c, probs.begin() + (i + 1) * c);
    size_t top = 0;
    for (size_t k = 1; k < a.size(); ++k)
      if (a[k] > a[top]) top = k;
    a[top] -= 1;
    for (double ak : a)
      for (int64_t k = 0; k < h; ++k) g[static_cast<size_t>(i)].push_back(ak * emb[static_cast<size_t>(i * h + k)]);
  }
  const auto dist2 = [&](int64_t i, int64_t j) {
    double s = 0;
    for (size_t k = 0; k < g[0].size(); ++k) s += std::pow(g[static_cast<size_t>(i)][k] - g[static_cast<size_t>(j)][k], 2);
    return s;
  };
  // Brute force: first centre the largest norm, then D^2 sampling with the documented draws.
  std::vector<int64_t> want;
  int64_t first = 0;
  double best = -1;
  for (int64_t i = 0; i < m; ++i) {
    double n2 = 0;
    for (double v : g[static_cast<size_t>(i)]) n2 += v * v;
    if (n2 > best) best = n2, first = i;
  }
  want.push_back(first);
  subset::Rng rng(99);
  while (static_cast<int64_t>(want.size()) < budget) {
    std::vector<double> d2(static_cast<size_t>(m), std::numeric_limits<double>::infinity());
    double total = 0;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t cidx : want) d2[static_cast<size_t>(i)] = std::min(d2[static_cast<size_t>(i)], dist2(i, cidx));
      for (int64_t cidx : want)
        if (cidx == i) d2[static_cast<size_t>(i)] = 0;
      total += d2[static_cast<size_t>(i)];
    }
    const double u = rng.uniform01() * total;
    double run = 0;
    for (int64_t i = 0; i < m; ++i) {
      run += d2[static_cast<size_t>(i)];
      if (run > u) {
        want.push_back(i);
        break;
      }
    }
  }
  const Pick got = badge_pick(probs.data(), emb.data(), m, c, h, budget, 99);
  CHECK(got.positions == want);
  CHECK(got.scores[0] == doctest::Approx(std::sqrt(best)));
}

TEST_CASE("al strategies: BADGE on duplicates takes the lowest open positions") {
  const std::vector<float> probs{0.6f, 0.4f, 0.6f, 0.4f, 0.6f, 0.4f};
  const std::vector<float> emb{1, 1, 1};
  CHECK(badge_pick(probs.data(), emb.data(), 3, 2, 1, 3, 5).positions == std::vector<int64_t>{0, 1, 2});
}

TEST_CASE("al strategies: core-set equals brute-force farthest-first from the labelled rows") {
  const int64_t m = 60, l = 5, d = 3, budget = 8;
  const std::vector<float> x = random_matrix(m + l, d, 3);
  const auto dist2 = [&](int64_t i, int64_t j) {
    double s = 0;
    for (int64_t k = 0; k < d; ++k) s += std::pow(static_cast<double>(x[static_cast<size_t>(i * d + k)]) - x[static_cast<size_t>(j * d + k)], 2);
    return s;
  };
  std::vector<double> mind(static_cast<size_t>(m + l), std::numeric_limits<double>::infinity());
  for (int64_t c = m; c < m + l; ++c)
    for (int64_t i = 0; i < m + l; ++i) mind[static_cast<size_t>(i)] = std::min(mind[static_cast<size_t>(i)], dist2(i, c));
  std::vector<int64_t> want;
  std::vector<double> want_scores;
  for (int64_t b = 0; b < budget; ++b) {
    int64_t far = 0;
    for (int64_t i = 1; i < m; ++i)
      if (mind[static_cast<size_t>(i)] > mind[static_cast<size_t>(far)]) far = i;
    want.push_back(far);
    want_scores.push_back(std::sqrt(mind[static_cast<size_t>(far)]));
    for (int64_t i = 0; i < m + l; ++i) mind[static_cast<size_t>(i)] = std::min(mind[static_cast<size_t>(i)], dist2(i, far));
  }
  const Pick got = coreset_pick(x.data(), m + l, d, m, budget, 1);
  CHECK(got.positions == want);
  for (size_t i = 0; i < want.size(); ++i) CHECK(got.scores[i] == doctest::Approx(want_scores[i]).epsilon(1e-5));
}

TEST_CASE("al strategies: typiclust picks candidates only, in distinct clusters of open points") {
  const int64_t m = 80, l = 4, d = 2;
  std::vector<float> x = random_matrix(m + l, d, 4);
  const Pick got = typiclust_pick(x.data(), m + l, d, m, 6, 2);
  CHECK(got.positions.size() == 6);
  for (int64_t p : got.positions) CHECK(p < m);
  CHECK(std::set<int64_t>(got.positions.begin(), got.positions.end()).size() == 6);
  CHECK(typiclust_pick(x.data(), m + l, d, m, 6, 2).positions == got.positions);
}

TEST_CASE("al strategies: needs and unknown names") {
  CHECK_FALSE(strategy_needs("random").proxy);
  CHECK(strategy_needs("typiclust").features);
  CHECK(strategy_needs("coreset").labelled_embeddings);
  CHECK(strategy_needs("badge").probabilities);
  CHECK(strategy_needs("bald").passes);
  CHECK_THROWS_AS(strategy_needs("nope"), subset::ParamError);
}
