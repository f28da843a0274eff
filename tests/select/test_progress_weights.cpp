// Progress of the selection methods (RunContext::progress): monotone, ending at its total, and
// weighted by cost so that the fraction done tells how much is left. k-means: a seeding step is one
// unit, a Lloyd iteration k units (N x k x d distances against N x d) until the first is timed, so
// that after seeding the fraction is k / (k + iterations * k), not "1001/1020 (98%)".
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/core/rng.h"
#include "libsubset/select/registry.h"
#include "libsubset/select/selector.h"

using namespace subset::select;
using subset::Rng;
using subset::RowMatrixF;

namespace {

using Reports = std::vector<std::pair<int64_t, int64_t>>;

RowMatrixF points(int64_t n, int64_t d, uint64_t seed) {
  Rng rng(seed);
  RowMatrixF x(n, d);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) x(i, j) = static_cast<float>(rng.uniform01() * 10.0 + (i % 7) * 3.0);
  return x;
}

SelectionRequest request_of(const RowMatrixF& x, int64_t budget, const std::vector<int64_t>* labels = nullptr) {
  SelectionRequest r;
  r.n = x.rows();
  r.dim = x.cols();
  r.features = x.data();
  r.budget = budget;
  r.labels = labels;
  return r;
}

std::unique_ptr<Selector> selector(const std::string& name, const std::map<std::string, std::string>& given = {}) {
  return make_selector(name, method(name).params.resolve(given));
}

// Every report: done within [0, total], the fraction done never going back (k-means re-weighs its
// total once its first Lloyd iteration is timed); the last is total/total.
void check_monotone_to_the_end(const Reports& r) {
  REQUIRE_FALSE(r.empty());
  double previous = 0;
  for (const auto& [done, total] : r) {
    REQUIRE(total > 0);
    CHECK(done >= 0);
    CHECK(done <= total);
    const double fraction = static_cast<double>(done) / static_cast<double>(total);
    CHECK(fraction >= previous);
    previous = fraction;
  }
  CHECK(r.back().first == r.back().second);
}

}  // namespace

TEST_CASE("kmeans progress: seeding is k of k + iterations * k units, Lloyd the rest") {
  const RowMatrixF x = points(3000, 8, 1);
  const int64_t k = 60, iterations = 10;
  Reports r;
  RunContext ctx{7, [&](int64_t done, int64_t total) { r.emplace_back(done, total); }};
  // tolerance 0 and few iterations on spread points: all 10 iterations run (checked below).
  selector("kmeans", {{"iterations", std::to_string(iterations)}})->select(request_of(x, k), ctx);
  check_monotone_to_the_end(r);
  CHECK(r.front().second == k + iterations * k);  // 660, hand-computed
  // The last report of the seeding phase: k - 1 seeds placed before the last step, 59/660. The
  // fraction after seeding is about k / (k + iterations * k) = 1/11, nowhere near 98%.
  int64_t seeding_last = -1;
  for (const auto& [done, total] : r)
    if (done < k) seeding_last = done;
  CHECK(seeding_last == k - 1);
  const double after_seeding = static_cast<double>(seeding_last + 1) / static_cast<double>(k + iterations * k);
  CHECK(after_seeding == doctest::Approx(1.0 / 11.0));
  // Lloyd: its first iteration only moves the centres (the seeds came with their assignment) and
  // counts k units. Once the second, a whole one, is timed, an iteration is w units (what that time
  // would have bought at the seeding's pace, >= 1) and the total k + iterations * w; every iteration
  // then moves the count by w (when none converged early).
  std::vector<std::pair<int64_t, int64_t>> lloyd;
  for (const auto& [done, total] : r)
    if (done >= k) lloyd.emplace_back(done, total);
  REQUIRE(lloyd.size() >= 3);
  CHECK(lloyd[0] == std::make_pair(k + k, k + iterations * k));
  const int64_t total = lloyd[1].second;
  REQUIRE((total - k) % iterations == 0);
  const int64_t w = (total - k) / iterations;
  CHECK(w >= 1);
  for (size_t i = 1; i + 1 < lloyd.size(); ++i) {
    CHECK(lloyd[i].second == total);
    CHECK(lloyd[i].first == k + static_cast<int64_t>(i + 1) * w);
  }
}

TEST_CASE("kmeans progress: random init is iterations * k units; early convergence ends at the total") {
  const RowMatrixF x = points(400, 4, 2);
  Reports r;
  RunContext ctx{3, [&](int64_t done, int64_t total) { r.emplace_back(done, total); }};
  // 500 iterations: it converges (the assignment repeats) long before, and the count jumps to the end.
  selector("kmeans", {{"iterations", "500"}, {"init", "random"}})->select(request_of(x, 5), ctx);
  check_monotone_to_the_end(r);
  CHECK(r.front().second == 500 * 5);
  CHECK(r.size() < 500);  // converged early: fewer reports than iterations, the last one the total
}

TEST_CASE("per-class progress is one count for the whole run, not 0..100% again for every class") {
  const RowMatrixF x = points(900, 6, 3);
  std::vector<int64_t> labels(900);
  for (int64_t i = 0; i < 900; ++i) labels[static_cast<size_t>(i)] = i < 600 ? 0 : (i < 800 ? 1 : 2);
  for (const std::string name : {"kmeans", "kcenter", "herding"}) {
    CAPTURE(name);
    Reports r;
    RunContext ctx{5, [&](int64_t done, int64_t total) { r.emplace_back(done, total); }};
    select_per_class(*selector(name), request_of(x, 60, &labels), ctx);
    check_monotone_to_the_end(r);
    // Class 0 holds 600 of the points and 20 of the 60 picks (balanced): its share of the cost
    // (points x picks) is 600*20 / (600*20 + 200*20 + 100*20) = 2/3. Some report lies inside it.
    bool inside_first = false;
    for (const auto& [done, total] : r)
      inside_first |= done > 0 && static_cast<double>(done) / static_cast<double>(total) < 2.0 / 3.0 - 1e-9;
    CHECK(inside_first);
  }
}

TEST_CASE("kcenter progress counts the already selected centres' passes too") {
  const RowMatrixF x = points(2000, 4, 4);
  SelectionRequest req = request_of(x, 32);
  for (int64_t i = 0; i < 96; ++i) req.already_selected.push_back(i * 20);
  Reports r;
  RunContext ctx{1, [&](int64_t done, int64_t total) { r.emplace_back(done, total); }};
  selector("kcenter")->select(req, ctx);
  check_monotone_to_the_end(r);
  CHECK(r.front().second == 96 + 32);
  CHECK(r.front().first == 16);  // reported every 16 steps from the first, the 96 given ones included
}
