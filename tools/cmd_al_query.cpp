// `subset al query` and `subset al simulate` (docs/active-learning.md): the strategies' side of
// `subset al`. Both train the proxy, so the nn library is loaded when they run.
#include <iostream>

#include "libsubset/workflows/al/query.h"
#include "libsubset/workflows/al/simulate.h"
#include "tools/cmd_al_query.h"
#include "tools/nn_plugin.h"

namespace subset::cli {
namespace {

// The options of a round (batch, candidates, passes, dropout) and of the proxy (hidden, epochs, lr,
// device), from their schemas.
struct RoundOptions {
  std::shared_ptr<ParamOptions> strategy, proxy;
  void apply(workflows::al::StrategyOptions& options, TrainSettings& settings) const {
    workflows::al::strategy_options_schema().set_all(options, strategy->given());
    workflows::al::set_proxy_settings(settings, proxy->given());
  }
};

RoundOptions add_round_options(CLI::App& app) {
  return {std::make_shared<ParamOptions>(app, std::vector<const ParamSchema*>{&workflows::al::strategy_options_schema().schema()}),
          std::make_shared<ParamOptions>(app, std::vector<const ParamSchema*>{&workflows::al::al_proxy_schema()},
                                         "Proxy model")};
}

Command add_query(CLI::App& al, const GlobalOptions& global) {
  struct Options {
    workflows::al::QueryJob job;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = al.add_subcommand("query", "Propose the next batch of pool rows to label");
  app->footer(
      "Trains the proxy (an mlp) on the labelled rows, scores the candidates (pool rows neither labelled nor\n"
      "pending), records the batch as pending and writes `row,score` (rows of the pool store, best first).\n"
      "random and typiclust need no labels (cold start). The energy of each phase goes to the ledger.");
  app->add_option("project", o->job.project, "Project file (subset al init)")->required();
  auto own = std::make_shared<ParamOptions>(*app, std::vector<const ParamSchema*>{&workflows::al::query_schema().schema()});
  const RoundOptions round = add_round_options(*app);
  app->add_option("-o,--output", o->job.output, "CSV to write (default: PROJECT without .al, then .query<ROUND>.csv)");
  app->add_option("--images", o->job.images, "Also write a directory of PNGs, one per row and contact.png (image stores)");
  app->add_flag("--force", o->job.force, "Overwrite existing outputs");
  add_json_flag(*app, o->json);
  return {app, [o, own, round, &global]() {
            workflows::al::QueryJob job = o->job;
            workflows::al::query_schema().set_all(job, own->given());
            round.apply(job.options, job.proxy);
            job.meter = global.meter;
            job.status = status_lines(global);
            const workflows::al::QueryOutcome out = nn_workflows().al_query(job);
            if (o->json) std::cout << workflows::al::to_json(out).dump(2) << "\n";
            else std::cout << workflows::al::format_query(out);
            return 0;
          }};
}

Command add_simulate(CLI::App& al, const GlobalOptions& global) {
  struct Options {
    workflows::al::SimulateJob job;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = al.add_subcommand("simulate", "Benchmark strategies on a labelled pool: its labels answer the queries");
  app->footer(
      "Per repeat a seed set (--seed-method; the same for every strategy), then --rounds rounds of --batch rows per\n"
      "strategy, answered from /labels; the proxy's accuracy on /test after each. Writes DIR/curves.json,\n"
      "DIR/curves.csv and DIR/summary.json (AUBC; labels to reach random's final accuracy). Plot:\n"
      "python_scripts/plot_al_curves.py DIR.");
  app->add_option("pool", o->job.pool, "Feature store with /labels and a labelled /test split")->required();
  auto own = std::make_shared<ParamOptions>(*app, std::vector<const ParamSchema*>{&workflows::al::simulate_schema().schema()});
  const RoundOptions round = add_round_options(*app);
  app->add_option("--seed", o->job.seed, "Seed of the seed sets, the proxies and the strategies' draws")
      ->check(seed_value())->capture_default_str();
  app->add_option("-o,--output", o->job.output, "Directory to write the curves and summary to")->required();
  app->add_flag("--force", o->job.force, "Overwrite existing outputs in the directory");
  add_json_flag(*app, o->json);
  return {app, [o, own, round, &global]() {
            workflows::al::SimulateJob job = o->job;
            workflows::al::simulate_schema().set_all(job, own->given());
            round.apply(job.options, job.proxy);
            workflows::al::parse_strategies(job.strategies);  // a bad list fails before libtorch loads
            job.meter = global.meter;
            job.status = status_lines(global);
            const workflows::al::SimulateOutcome out = nn_workflows().al_simulate(job);
            if (o->json) std::cout << workflows::al::summary_json(out).dump(2) << "\n";
            else std::cout << workflows::al::format_simulation(out);
            return 0;
          }};
}

}  // namespace

std::vector<Command> add_al_query_commands(CLI::App& al, const GlobalOptions& global) {
  return {add_query(al, global), add_simulate(al, global)};
}

}  // namespace subset::cli
