// Tests for libsubset/select/probcover.h: the greedy picks equal a brute-force maximum coverage
// over balls computed from all pairs (full graph: neighbours = n - 1), with already-selected
// points; the purity rule equals a brute-force scan over every candidate radius; the random fill
// once everything is covered.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "libsubset/select/knn.h"
#include "libsubset/select/probcover.h"
#include "libsubset/select/registry.h"
#include "support/oracle_distance.h"
#include "support/point_sets.h"

using namespace subset::select;

namespace {

Selection run(const SelectionRequest& r, std::map<std::string, std::string> given) {
  const auto& spec = method("probcover");
  validate_request(spec, r);
  return make_selector("probcover", spec.params.resolve(given))->select(r, RunContext{2, {}});
}

SelectionRequest request_for(const subset::test::Data& data, int64_t budget, std::vector<int64_t> already = {}) {
  SelectionRequest r;
  r.n = data.n;
  r.features = data.x.data();
  r.dim = data.dim;
  r.budget = budget;
  r.already_selected = std::move(already);
  return r;
}

}  // namespace

TEST_CASE("probcover: greedy coverage equals brute force on all pairs, with already-selected points") {
  const auto data = subset::test::clustered(80, 2, 6, 21);
  const double delta = 0.5;
  for (const std::vector<int64_t>& already : {std::vector<int64_t>{}, std::vector<int64_t>{4, 40}}) {
    std::vector<std::set<int64_t>> ball(static_cast<size_t>(data.n));
    for (int64_t a = 0; a < data.n; ++a)
      for (int64_t b = 0; b < data.n; ++b)
        if (std::sqrt(subset::test::oracle_sq_dist(&data.x[a * 2], &data.x[b * 2], 2)) < delta || a == b)
          ball[static_cast<size_t>(a)].insert(b);
    std::set<int64_t> covered, taken(already.begin(), already.end());
    for (int64_t a : already) covered.insert(ball[static_cast<size_t>(a)].begin(), ball[static_cast<size_t>(a)].end());
    std::vector<int64_t> want;
    std::vector<float> gains;
    for (;;) {
      int64_t best = -1, best_gain = 0;
      for (int64_t x = 0; x < data.n; ++x) {
        if (taken.count(x)) continue;
        int64_t g = 0;
        for (int64_t y : ball[static_cast<size_t>(x)]) g += covered.count(y) ? 0 : 1;
        if (g > best_gain) best_gain = g, best = x;
      }
      if (best < 0) break;
      want.push_back(best);
      gains.push_back(static_cast<float>(best_gain));
      taken.insert(best);
      covered.insert(ball[static_cast<size_t>(best)].begin(), ball[static_cast<size_t>(best)].end());
    }
    REQUIRE(want.size() >= 6);
    const auto budget = static_cast<int64_t>(want.size());
    const Selection s = run(request_for(data, budget, already), {{"neighbours", "79"}, {"delta", "0.5"}});
    CHECK(s.indices == want);
    CHECK(s.scores == gains);
    CHECK(s.stats["coverage"] == doctest::Approx(1.0));
  }
}

TEST_CASE("probcover: once everything is covered, the rest is drawn at random from the open points") {
  const auto data = subset::test::gaussian(50, 3, 5);
  const Selection s = run(request_for(data, 20, {7}), {{"neighbours", "49"}, {"delta", "1000"}});
  CHECK(s.indices.size() == 20);
  CHECK(s.scores[0] == 0.0f);  // point 7's ball already covers everything
  CHECK(std::set<int64_t>(s.indices.begin(), s.indices.end()).size() == 20);
  CHECK(std::find(s.indices.begin(), s.indices.end(), 7) == s.indices.end());
}

TEST_CASE("probcover: the purity rule equals a scan over every candidate radius") {
  const auto data = subset::test::clustered(300, 4, 5, 8);
  const KnnGraph g = knn(data.x.data(), data.n, data.dim, 10);
  subset::Rng rng(1);
  std::vector<int32_t> pseudo;
  for (int64_t i = 0; i < data.n; ++i) pseudo.push_back(static_cast<int32_t>(i % 50 == 0 ? 3 : (data.x[i * 4] > 0)));
  for (double alpha : {0.5, 0.9, 0.95, 1.0}) {
    CAPTURE(alpha);
    auto purity = [&](double delta) {
      int64_t pure = 0;
      for (int64_t x = 0; x < g.n; ++x) {
        bool ok = true;
        for (int64_t t = 0; t < g.k; ++t)
          if (std::sqrt(g.distances(x)[t]) < delta && pseudo[g.neighbours(x)[t]] != pseudo[x]) ok = false;
        pure += ok;
      }
      return static_cast<double>(pure) / static_cast<double>(g.n);
    };
    double want = 0.0;
    std::vector<double> candidates = {std::numeric_limits<double>::infinity()};
    for (double d2 : g.sq_distances) candidates.push_back(std::sqrt(d2));
    for (double c : candidates)
      if (purity(c) >= alpha) want = std::max(want, c);
    const auto [delta, pure] = probcover_detail::purity_delta(g, pseudo, alpha);
    CHECK(delta == want);
    CHECK(pure == purity(delta));
    CHECK(pure >= alpha);
  }
}

TEST_CASE("probcover: without delta and without labels, purity-clusters is needed") {
  const auto data = subset::test::gaussian(30, 2, 5);
  try {
    run(request_for(data, 3), {});
    FAIL("no error");
  } catch (const subset::ParamError& e) {
    CHECK(e.parameter() == "purity-clusters");
  }
  CHECK(run(request_for(data, 3), {{"purity-clusters", "3"}}).indices.size() == 3);
}

TEST_CASE("probcover: the knn parameter picks the search and the stats record it") {
  const auto data = subset::test::clustered(400, 8, 6, 3);
  const std::map<std::string, std::string> base = {{"delta", "1.5"}, {"neighbours", "15"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(base.begin(), base.end());
    return run(request_for(data, 12), extra);
  };
  const Selection by_auto = with({});
  CHECK(by_auto.stats["knn"] == nlohmann::json{{"search", "exact"}, {"rescans", 0}});
  // Scanning every list (20 lists of 400 points, at least 20 probes) is the exact graph.
  const Selection full = with({{"knn", "approximate"}, {"knn-probes", "100"}});
  CHECK(full.stats["knn"]["search"] == "approximate");
  CHECK(full.stats["knn"]["lists"] == 20);
  CHECK(full.stats["knn"]["probes"] == 20);
  CHECK(full.indices == by_auto.indices);
  CHECK(full.scores == by_auto.scores);
  const Selection one_probe = with({{"knn", "approximate"}, {"knn-probes", "1"}});
  CHECK(one_probe.stats["knn"]["probes"] == 1);
  CHECK(one_probe.indices.size() == 12);
  CHECK(with({{"knn", "exact"}}).indices == by_auto.indices);
  CHECK_THROWS_AS(with({{"knn", "hnsw"}}), subset::ParamError);
}
