// The torch-free half of `subset hpo`: its tunables, its checks and the configurations it searches.
#include <cerrno>
#include <cstdlib>
#include <algorithm>
#include <fstream>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/workflows/bench.h"
#include "libsubset/workflows/hpo/hpo.h"

namespace subset::workflows::hpo {

const SettingsSchema<HpoJob>& hpo_schema() {
  static const SettingsSchema<HpoJob> schema =
      SettingsSchema<HpoJob>("hpo")
          .field("trials", &HpoJob::trials,
                 "Configurations to search: random draws, or the first of the grid")
          .at_least(1)
          .field("search", &HpoJob::search,
                 "How configurations are chosen and trained: random (seeded draws), grid (the product of choices "
                 "and int ranges), halving (random draws, successive halving over nested coresets)")
          .one_of({"random", "grid", "halving"})
          .field("eta", &HpoJob::eta, "Successive halving: each rung keeps the best 1/eta of its configurations")
          .at_least(2)
          .field("full", &HpoJob::full,
                 "Full-data trainings: all (every configuration, the benchmark mode), top-K (each coreset's K "
                 "best, e.g. top-3), none")
          .done();
  return schema;
}

std::vector<std::string> halving_methods(const HpoJob& job) {
  if (job.search != "halving") return {};
  std::vector<std::string> methods = job.methods;
  if (std::find(methods.begin(), methods.end(), "random") == methods.end()) methods.push_back("random");
  return methods;
}

int64_t full_top_k(const std::string& full) {
  if (full == "all") return -1;
  if (full == "none") return 0;
  if (full.rfind("top-", 0) == 0 && full.size() > 4 && full.find_first_not_of("0123456789", 4) == std::string::npos &&
      full.size() < 14) {
    const int64_t k = std::strtoll(full.c_str() + 4, nullptr, 10);
    if (k > 0) return k;
  }
  SUBSET_FAIL_PARAM("full", "'" << full << "' is not all, none or top-K with K a whole number >= 1 (e.g. top-3)");
}

namespace {

// What halving needs beyond the other searches; see docs/hpo.md, "Successive halving".
void check_halving(const HpoJob& job, int64_t full_k) {
  SUBSET_CHECK_PARAM(job.selections.empty(), "selection",
                     "search halving makes its own nested coresets: give --methods and --fractions, not selection files");
  SUBSET_CHECK_PARAM(!job.methods.empty() && !job.fractions.empty(), "methods",
                     "search halving needs --methods and --fractions (the coresets of the rungs below the full data)");
  for (double f : job.fractions)
    SUBSET_CHECK_PARAM(f < 1, "fractions", "search halving trains its last rung on the full data itself; fraction " << f
                                                                                                          << " is not below 1");
  SUBSET_CHECK_PARAM(full_k <= 0, "full",
                     "search halving trains its survivors on the full data itself: use --full all (every configuration "
                     "too, the reference for regret) or none, not " << job.full);
  SUBSET_CHECK_PARAM(resolve_defaults(job.training).schedule == "early-stop", "schedule",
                     "search halving ranks configurations by their validation accuracy, which only schedule "
                     "early-stop has (never by the test split)");
}

nlohmann::json read_space_json(const std::string& path) {
  SUBSET_CHECK_PARAM(!path.empty(), "space", "no space file given");
  std::ifstream in(path);
  SUBSET_CHECK_PARAM(in, "space", "cannot read the space file " << path);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error& e) {
    SUBSET_FAIL_PARAM("space", path << " is not valid JSON: " << fold_into_one_line(e.what()));
  }
}

}  // namespace

HpoPlan plan_hpo(const HpoJob& job) {
  hpo_schema().check(job);
  const int64_t k = full_top_k(job.full);
  const bool by_methods = !job.methods.empty() || !job.fractions.empty();
  if (job.search == "halving") check_halving(job, k);
  SUBSET_CHECK_PARAM(by_methods != !job.selections.empty(), "selection",
                     (by_methods ? "give selection files or methods and fractions, not both"
                                 : "no coreset given: give selection files, or methods and fractions"));
  if (by_methods) check_bench_lists(job.methods, job.fractions);
  check_train_settings(job.training);
  HpoPlan plan;
  plan.space_json = read_space_json(job.space_path);
  try {
    plan.space = parse_space(plan.space_json, job.training);
  } catch (const ParamError& e) {
    throw ParamError("space", job.space_path + ": " + e.message());
  }
  plan.halving_methods = halving_methods(job);
  Sampled sampled = job.search == "grid" ? sample_grid(plan.space, job.trials)
                                         : sample_random(plan.space, job.trials, job.seed);
  for (size_t i = 0; i < sampled.configs.size(); ++i) {
    // Settings a configuration makes invalid together with the fixed ones are found now, not after
    // the first trainings.
    check_train_settings(apply_config(job.training, sampled.configs[i]));
    plan.configs.push_back({"c" + std::to_string(i), std::move(sampled.configs[i])});
  }
  plan.notes = std::move(sampled.notes);
  if (plan.halving_methods.size() > job.methods.size())
    plan.notes.push_back("search halving: method random added, the peer (plain successive halving on nested random subsets)");
  return plan;
}

}  // namespace subset::workflows::hpo
