// The contract every registered selection method keeps (DESIGN.md): whatever select::methods()
// lists is run on a small labelled dataset and checked for: budget respected, indices unique and
// in range, the same seed giving the same result at 1 and 2 threads, already-selected points
// never returned, unknown parameters rejected by make_selector, and budgets beyond the open points
// rejected by validate_request. A new method is covered as soon as it is in the table. The
// importance methods score with a stand-in provider here (support/fake_scores.h); their libtorch
// scores are tested in tests/nn.
#include <doctest/doctest.h>
#include <omp.h>

#include "support/vector_string.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/select/registry.h"
#include "support/fake_scores.h"
#include "support/labelled_set.h"

using namespace subset::select;
using subset::Error;
using subset::ParamMap;
using subset::test::all_unique_in_range;
using subset::test::make_labelled_set;

namespace {

Selection run_with_threads(const MethodSpec& spec, const SelectionRequest& r, uint64_t seed, int threads) {
  const auto selector = make_selector(spec.name, spec.params.resolve({}));
  validate_request(spec, r);
  const int before = omp_get_max_threads();
  omp_set_num_threads(threads);
  Selection s = selector->select(r, RunContext{seed, {}});
  omp_set_num_threads(before);
  return s;
}

void check_shape(const Selection& s, int64_t n, int64_t budget) {
  CHECK(static_cast<int64_t>(s.indices.size()) == budget);
  CHECK(all_unique_in_range(s.indices, n));
  CHECK((s.weights.empty() || s.weights.size() == s.indices.size()));
  CHECK((s.scores.empty() || s.scores.size() == s.indices.size()));
}

}  // namespace

TEST_CASE("contract: every method respects the budget, returns unique in-range indices, is deterministic") {
  const subset::test::FakeScores scores;
  // Small, and large enough (6000 points) for the methods that only go parallel on bigger sets.
  for (const auto& sizes : {std::vector<int64_t>{30, 20, 10}, std::vector<int64_t>{3000, 2000, 1000}}) {
    const auto set = make_labelled_set(sizes);
    for (const auto& spec : methods()) {
      CAPTURE(spec.name);
      CAPTURE(set.n());
      for (int64_t budget : {int64_t{1}, int64_t{12}, set.n() / 3}) {
        const SelectionRequest r = set.request(budget);
        const Selection one = run_with_threads(spec, r, 7, 1);
        const Selection two = run_with_threads(spec, r, 7, 2);
        check_shape(one, set.n(), budget);
        CHECK(one.indices == two.indices);
        CHECK(one.weights == two.weights);
        CHECK(one.scores == two.scores);
        CHECK(one.stats == two.stats);
        const Selection again = run_with_threads(spec, r, 7, 2);
        CHECK(again.indices == one.indices);
      }
    }
  }
}

TEST_CASE("contract: already-selected points are never returned") {
  const subset::test::FakeScores scores;
  const auto set = make_labelled_set({40, 25, 15});
  const std::vector<int64_t> already = {0, 3, 4, 50, 79, 12};
  for (const auto& spec : methods()) {
    CAPTURE(spec.name);
    for (int64_t budget : {int64_t{1}, int64_t{10}, set.n() - static_cast<int64_t>(already.size())}) {
      const Selection s = run_with_threads(spec, set.request(budget, already), 3, 2);
      check_shape(s, set.n(), budget);
      for (int64_t i : s.indices) CHECK(std::find(already.begin(), already.end(), i) == already.end());
    }
  }
}

TEST_CASE("contract: unknown parameters are rejected, naming the parameter") {
  for (const auto& spec : methods()) {
    CAPTURE(spec.name);
    ParamMap p = spec.params.resolve({});
    p.set("no-such-parameter", int64_t{1});
    try {
      make_selector(spec.name, p);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(std::string(e.what()).find("no-such-parameter") != std::string::npos);
    }
    CHECK_THROWS_AS(spec.params.resolve({{"no-such-parameter", "1"}}), Error);
  }
}

TEST_CASE("contract: budgets beyond the open points are rejected before any work") {
  const auto set = make_labelled_set({10, 10});
  for (const auto& spec : methods()) {
    CAPTURE(spec.name);
    CHECK_THROWS_AS(validate_request(spec, set.request(set.n() + 1)), Error);
    CHECK_THROWS_AS(validate_request(spec, set.request(set.n() - 1, {0, 1})), Error);
    CHECK_THROWS_AS(validate_request(spec, set.request(0)), Error);
    CHECK_NOTHROW(validate_request(spec, set.request(set.n())));
  }
}
