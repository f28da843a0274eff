// Tests for libsubset/select/typiclust.h: hand-made blobs (the centre of each is its most typical
// point), and the picks equal an oracle that takes the same k-means and computes typicality by
// brute force over all pairs of each cluster's open points, with already-selected points.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "libsubset/select/kmeans.h"
#include "libsubset/select/registry.h"
#include "support/oracle_distance.h"
#include "support/point_sets.h"

using namespace subset::select;

namespace {

Selection run(const SelectionRequest& r, uint64_t seed, std::map<std::string, std::string> given = {}) {
  const auto& spec = method("typiclust");
  validate_request(spec, r);
  return make_selector("typiclust", spec.params.resolve(given))->select(r, RunContext{seed, {}});
}

// Most typical of `rows` by brute force: smallest mean distance to the m nearest others.
std::pair<int64_t, double> brute_typical(const subset::test::Data& data, const std::vector<int64_t>& rows, int64_t k) {
  const auto r = static_cast<int64_t>(rows.size());
  const int64_t m = std::min(k, r / 2);
  if (m == 0) return {rows[0], std::numeric_limits<double>::infinity()};
  int64_t best = -1;
  double best_mean = std::numeric_limits<double>::infinity();
  for (int64_t a : rows) {
    std::vector<std::pair<double, int64_t>> dist;
    for (int64_t b : rows)
      if (b != a) dist.emplace_back(subset::test::oracle_sq_dist(&data.x[a * data.dim], &data.x[b * data.dim], data.dim), b);
    std::sort(dist.begin(), dist.end());
    double sum = 0.0;
    for (int64_t t = 0; t < m; ++t) sum += std::sqrt(dist[static_cast<size_t>(t)].first);
    if (sum / static_cast<double>(m) < best_mean) {
      best_mean = sum / static_cast<double>(m);
      best = a;
    }
  }
  return {best, 1.0 / best_mean};
}

}  // namespace

TEST_CASE("typiclust: the centre of each blob") {
  // Three blobs of a centre and four points around it, at distance 1 (the centre's mean is 1).
  std::vector<float> x;
  for (float cx : {0.0f, 100.0f, 200.0f})
    for (auto [dx, dy] : std::vector<std::pair<float, float>>{{1, 0}, {0, 0}, {-1, 0}, {0, 1}, {0, -1}}) {
      x.push_back(cx + dx);
      x.push_back(dy);
    }
  SelectionRequest r;
  r.n = 15;
  r.features = x.data();
  r.dim = 2;
  r.budget = 3;
  const Selection s = run(r, 4, {{"neighbours", "4"}});
  CHECK(std::set<int64_t>(s.indices.begin(), s.indices.end()) == std::set<int64_t>{1, 6, 11});
  for (float v : s.scores) CHECK(v == doctest::Approx(1.0));
}

TEST_CASE("typiclust: equals the brute-force oracle on the same k-means, with already-selected points") {
  const auto data = subset::test::clustered(300, 5, 12, 9);
  // seeding: unset (auto: greedy at these few clusters), greedy and plain.
  for (const std::string seeding : {"", "greedy", "plain"})
  for (const std::vector<int64_t>& already : {std::vector<int64_t>{}, std::vector<int64_t>{3, 50, 51, 299}}) {
    for (int64_t budget : {int64_t{1}, int64_t{10}, int64_t{40}}) {
      CAPTURE(budget);
      CAPTURE(seeding);
      SelectionRequest r;
      r.n = data.n;
      r.features = data.x.data();
      r.dim = data.dim;
      r.budget = budget;
      r.already_selected = already;
      std::map<std::string, std::string> params{{"neighbours", "7"}};
      if (!seeding.empty()) params["seeding"] = seeding;
      const Selection s = run(r, 5, params);

      KMeansOptions o;
      o.k = budget + static_cast<int64_t>(already.size());
      o.local_trials = seeding == "plain" ? 1 : 0;
      const KMeansResult km = kmeans_fit(r.feature_view(), {}, o, RunContext{5, {}});
      std::set<int64_t> closed(already.begin(), already.end());
      std::vector<int64_t> existing(static_cast<size_t>(o.k), 0);
      for (int64_t a : already) ++existing[static_cast<size_t>(km.assignment[static_cast<size_t>(a)])];
      std::vector<int64_t> order(static_cast<size_t>(o.k));
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
        return std::make_pair(existing[a], -km.cluster_sizes[a]) < std::make_pair(existing[b], -km.cluster_sizes[b]);
      });
      std::vector<int64_t> want;
      std::vector<double> scores;
      while (static_cast<int64_t>(want.size()) < budget)
        for (int64_t c : order) {
          std::vector<int64_t> rows;
          for (int64_t i = 0; i < data.n; ++i)
            if (km.assignment[static_cast<size_t>(i)] == c && !closed.count(i)) rows.push_back(i);
          if (rows.empty() || static_cast<int64_t>(want.size()) == budget) continue;
          const auto [pick, typicality] = brute_typical(data, rows, 7);
          want.push_back(pick);
          scores.push_back(typicality);
          closed.insert(pick);
        }
      CHECK(s.indices == want);
      REQUIRE(s.scores.size() == scores.size());
      for (size_t j = 0; j < scores.size(); ++j) {
        if (std::isinf(scores[j])) CHECK(std::isinf(s.scores[j]));
        else CHECK(s.scores[j] == doctest::Approx(scores[j]).epsilon(1e-6));
      }
    }
  }
}
