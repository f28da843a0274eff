#include "libsubset/workflows/al/simulate.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "libsubset/core/rng.h"
#include "libsubset/select/registry.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/al/round.h"
#include "libsubset/workflows/al/strategies.h"

namespace subset::workflows::al {
namespace {

const char* const kFiles[] = {"curves.json", "curves.csv", "summary.json"};

struct Pool {
  RowMatrixF train, test;
  std::vector<int64_t> labels, test_labels;
  int64_t classes = 0;
};

Pool load_pool(const SimulateJob& job) {
  const io::FeatureStore store = io::FeatureStore::open(job.pool);
  const io::StoreInfo& info = store.info();
  SUBSET_CHECK(info.has_labels, job.pool, "simulate needs labels (they play the annotator), and the store has none");
  SUBSET_CHECK(info.has_test && info.has_test_labels && info.test_n() > 0, job.pool,
               "simulate needs a labelled test split (/test/features, /test/labels) for its learning curves");
  const int64_t needed = job.seed_size + job.rounds * job.options.batch;
  SUBSET_CHECK_PARAM(needed <= info.n(), "rounds",
                     "seed-size + rounds x batch = " << needed << " labels, more than the pool's " << info.n() << " rows");
  store.check_finite(io::Split::Train);
  store.check_finite(io::Split::Test);
  Pool p;
  p.train = store.features().read_all();
  p.test = store.features(io::Split::Test).read_all();
  p.labels = store.labels();
  p.test_labels = store.labels(io::Split::Test);
  p.classes = info.num_classes();
  return p;
}

// The seed set of one repeat, by job.seed_method on the pool's features (labels for balanced only),
// with what choosing it cost.
std::vector<int64_t> choose_seed(const Pool& pool, const SimulateJob& job, int64_t repeat, PhaseCost& cost) {
  const uint64_t seed = Rng(job.seed).fork(static_cast<uint64_t>(repeat)).fork(0).seed();
  if (job.seed_method == "random") return random_pick(pool.train.rows(), job.seed_size, seed).positions;
  const select::MethodSpec& spec = select::method(job.seed_method);
  const auto selector = spec.create(spec.params.resolve({}));
  select::SelectionRequest request;
  request.n = pool.train.rows();
  request.budget = job.seed_size;
  request.features = pool.train.data();
  request.dim = pool.train.cols();
  if (spec.needs_labels) {
    request.labels = &pool.labels;
    request.num_classes = pool.classes;
  }
  select::validate_request(spec, request);
  energy::EnergyMeter meter(job.meter ? *job.meter : energy::MeterOptions::from_environment({}));
  meter.start();
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<int64_t> rows = selector->select(request, select::RunContext{seed, {}}).indices;
  cost.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  cost.kwh = meter.stop().kwh();
  return rows;
}

void add(PhaseCost& total, const RoundResult& r) {
  for (const PhaseCost* p : {&r.training, &r.scoring, &r.selection}) {
    total.seconds += p->seconds;
    total.kwh += p->kwh;
  }
}

Curve simulate_one(const Pool& pool, const SimulateJob& job, const std::string& strategy, int64_t repeat,
                   const std::vector<int64_t>& seed_rows, const PhaseCost& seed_cost) {
  const MemoryRows rows(pool.train.data(), pool.train.rows(), pool.train.cols());
  const MemoryRows test(pool.test.data(), pool.test.rows(), pool.test.cols());
  const int64_t n = pool.train.rows();
  std::vector<char> labelled(static_cast<size_t>(n), 0);
  for (int64_t r : seed_rows) labelled[static_cast<size_t>(r)] = 1;
  Curve curve{strategy, repeat, {}};
  PhaseCost spent = seed_cost;
  const Rng root = Rng(job.seed).fork(static_cast<uint64_t>(repeat)).fork(1);
  for (int64_t round = 0; round <= job.rounds; ++round) {
    RoundData d;
    d.pool = &rows;
    d.test = &test;
    d.test_labels = &pool.test_labels;
    d.num_classes = pool.classes;
    std::vector<int64_t> open;
    for (int64_t r = 0; r < n; ++r) {
      if (labelled[static_cast<size_t>(r)]) {
        d.labelled_rows.push_back(r);
        d.labels.push_back(pool.labels[static_cast<size_t>(r)]);
      } else {
        open.push_back(r);
      }
    }
    const Rng draws = root.fork(static_cast<uint64_t>(round));
    d.candidates = choose_candidates(rows, d.labelled_rows, std::move(open), job.options, draws.fork(0).seed());
    RoundSettings s;
    s.strategy = strategy;
    s.options = job.options;
    s.proxy = job.proxy;
    s.seed = draws.fork(1).seed();
    s.meter = job.meter;
    s.train_only = round == job.rounds;
    const RoundResult r = run_round(d, s);
    add(spent, r);
    curve.points.push_back({round, static_cast<int64_t>(d.labelled_rows.size()), r.test_accuracy.value_or(0), spent.kwh,
                            spent.seconds});
    for (int64_t row : r.rows) labelled[static_cast<size_t>(row)] = 1;
    if (job.status)
      job.status(strategy + " repeat " + std::to_string(repeat) + " round " + std::to_string(round) + ": accuracy " +
                 std::to_string(curve.points.back().accuracy));
  }
  return curve;
}

void write_text(const std::string& path, const std::string& text, bool force) {
  io::AtomicOutput out(path, force);
  {
    std::ofstream f(out.temp_path());
    f << text;
    f.flush();
    SUBSET_CHECK(f.good(), path, "cannot write");
  }
  out.commit();
}

}  // namespace

SimulateOutcome run_al_simulate(const SimulateJob& job) {
  const std::vector<std::string> strategies = parse_strategies(job.strategies);
  simulate_schema().check(job);
  strategy_options_schema().check(job.options);
  check_train_settings(al_proxy_settings(job.proxy));
  SUBSET_CHECK(!job.output.empty(), "output", "no output directory given");
  std::error_code ec;
  std::filesystem::create_directories(job.output, ec);
  SUBSET_CHECK(std::filesystem::is_directory(job.output, ec), job.output, "is not a directory and cannot be created");
  for (const char* f : kFiles) io::check_output_path(job.output + "/" + f, job.force);
  const Pool pool = load_pool(job);
  SimulateOutcome out;
  out.output = job.output;
  out.settings = {{"pool", job.pool},        {"strategies", strategies},         {"seed-size", job.seed_size}, {"seed-method", job.seed_method},
                  {"rounds", job.rounds},    {"repeats", job.repeats},           {"seed", std::to_string(job.seed)},
                  {"options", strategy_options_schema().to_json(job.options)},
                  {"proxy", train_schema().to_json(al_proxy_settings(job.proxy), "mlp")}};
  for (int64_t repeat = 0; repeat < job.repeats; ++repeat) {
    PhaseCost seed_cost;
    const std::vector<int64_t> seed_rows = choose_seed(pool, job, repeat, seed_cost);
    for (const std::string& strategy : strategies)
      out.curves.push_back(simulate_one(pool, job, strategy, repeat, seed_rows, seed_cost));
  }
  for (const CurvePoint& p : out.curves.front().points) out.labels.push_back(p.labels);
  out.summary = summarise(out.curves);
  write_text(job.output + "/curves.json", curves_json(out).dump(2) + "\n", job.force);
  write_text(job.output + "/curves.csv", curves_csv(out), job.force);
  write_text(job.output + "/summary.json", summary_json(out).dump(2) + "\n", job.force);
  return out;
}

}  // namespace subset::workflows::al
