// One active-learning round at Fashion-MNIST scale (issue 15's target: under 3 s for every
// strategy but bald): train the proxy on L labelled rows, score every other row of the pool, pick
// B; prints each phase's seconds and kWh per strategy. The features stream from the store as in
// `al query` (StoreRows); the test split is measured as query does.
//
// Usage: bench_al_round STORE [LABELLED=1100] [BATCH=100] [STRATEGIES=random,entropy,...]
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "libsubset/core/rng.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/al/round.h"
#include "libsubset/workflows/al/strategies.h"

using namespace subset;
using namespace subset::workflows::al;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s STORE [LABELLED] [BATCH] [STRATEGIES]\n", argv[0]);
    return 2;
  }
  const io::FeatureStore store = io::FeatureStore::open(argv[1]);
  const int64_t labelled = argc > 2 ? std::atoll(argv[2]) : 1100, batch = argc > 3 ? std::atoll(argv[3]) : 100;
  std::vector<std::string> strategies{"random", "entropy", "margin", "least-confidence", "coreset", "badge", "typiclust"};
  if (argc > 4) {
    strategies.clear();
    std::stringstream s(argv[4]);
    for (std::string name; std::getline(s, name, ',');) strategies.push_back(name);
  }
  const StoreRows pool(store.features()), test(store.features(io::Split::Test));
  const std::vector<int64_t> labels = store.labels(), test_labels = store.labels(io::Split::Test);
  const Pick seed = random_pick(store.info().n(), labelled, 1);
  std::vector<char> is_labelled(static_cast<size_t>(store.info().n()), 0);
  for (int64_t r : seed.positions) is_labelled[static_cast<size_t>(r)] = 1;
  RoundData d;
  d.pool = &pool;
  d.test = &test;
  d.test_labels = &test_labels;
  d.num_classes = store.info().num_classes();
  for (int64_t r = 0; r < store.info().n(); ++r) {
    if (is_labelled[static_cast<size_t>(r)]) {
      d.labelled_rows.push_back(r);
      d.labels.push_back(labels[static_cast<size_t>(r)]);
    } else {
      d.candidates.push_back(r);
    }
  }
  std::printf("# %s: %lld labelled, %zu candidates, batch %lld, proxy mlp, about %lld steps\n", argv[1],
              static_cast<long long>(labelled), d.candidates.size(), static_cast<long long>(batch),
              static_cast<long long>(kAlProxySteps));
  std::printf("%-18s %9s %9s %9s %9s %12s %9s\n", "strategy", "train_s", "score_s", "select_s", "total_s", "kWh",
              "test_acc");
  for (const std::string& strategy : strategies) {
    RoundSettings s;
    s.strategy = strategy;
    s.options.batch = batch;
    s.seed = 7;
    const RoundResult r = run_round(d, s);
    const double total = r.training.seconds + r.scoring.seconds + r.selection.seconds;
    std::printf("%-18s %9.3f %9.3f %9.3f %9.3f %12.3g %9.4f\n", strategy.c_str(), r.training.seconds,
                r.scoring.seconds, r.selection.seconds, total, r.training.kwh + r.scoring.kwh + r.selection.kwh,
                r.test_accuracy.value_or(0));
  }
  return 0;
}
