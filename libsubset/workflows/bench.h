#pragma once
// `subset bench`: the accuracy-versus-energy sweep. For every method and fraction, R times: select
// (measured, seed + r), train the proxy model on the selection (seed + r), test. The full-data
// trainings are the reference each row is set against. Results go to DIR/results.json and
// DIR/results.csv (and DIR/plot.png through the plot command); the selections stay in
// DIR/selections/ for reuse.
#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/workflows/evaluate.h"

namespace subset::workflows {

struct BenchJob {
  std::string store;
  std::vector<std::string> methods;      // METHOD[:PARAM=VALUE]... (parse_bench_method); rows are labelled so
  std::vector<double> fractions;         // each in (0, 1]
  bool per_class = false;
  // A same-rows store of `store` (`subset embed`): every method selects on its features, and its
  // recorded energy is counted in every row's selection cost (shown apart as embed_kwh).
  std::optional<std::string> embedding;
  int64_t repeats = 3;
  uint64_t seed = 0;
  TrainSettings training;            // its seed is ignored: repeat r uses seed + r; unset epochs
                                         // and learning rate are the model's (resolve_defaults)
  bool use_weights = true;
  bool use_cache = true;
  std::string output_dir;
  bool force = false;
  // argv prefix of the plotter; it gets "RESULTS_JSON OUTPUT_PNG" appended. Empty: no plot.
  std::vector<std::string> plot_command;
  energy::MeterOptions meter;
  std::function<void(const std::string&)> status;
  // Per-epoch progress over all the trainings (as EvaluateJob::progress); the selections between
  // them are not counted. May be empty.
  ProgressFn progress;
};

struct BenchRow {
  std::string method;
  double fraction = 0;
  SelectionEvaluation evaluation;        // training = the R subset trainings, selection_energy = mean
  std::vector<double> select_seconds;    // per repeat
  // With BenchJob::embedding: the embedding's recorded report, included in
  // evaluation.selection_energy (which is then embedding + mean selection).
  std::optional<energy::EnergyReport> embedding_energy;
};

struct BenchResult {
  EvaluateResult reference;              // the full-data trainings (selections empty)
  std::vector<BenchRow> rows;
  std::string output_dir;
  bool plotted = false;
};

// One entry of BenchJob::methods: a method name, then any of its parameters as `:name=value`
// (e.g. "el2n:order=coverage:prune-hardest=0.1"); unnamed parameters keep their defaults.
struct BenchMethod {
  std::string label;                         // the text as given
  std::string method;
  std::map<std::string, std::string> params;
};
// Throws Error naming the entry for an unknown method, a piece without '=', or a parameter the
// method does not take or a value outside its domain.
BenchMethod parse_bench_method(const std::string& text);

// The text of --methods or --fractions split at commas, each item trimmed of spaces; throws
// ParamError naming `option` ("methods") for an empty text or an empty item (",,", "a,", ",a").
std::vector<std::string> split_bench_list(const std::string& text, const std::string& option);
// --fractions as numbers: each a whole decimal number (no trailing text), in (0, 1].
std::vector<double> parse_bench_fractions(const std::string& text);
// Checks the lists as a sweep takes them, naming the option and the item: at least one of each,
// no method entry or fraction given twice (their selections would share a file name), every
// fraction in (0, 1], every method entry valid (parse_bench_method).
void check_bench_lists(const std::vector<std::string>& methods, const std::vector<double>& fractions);

// The sweep's own tunables, by option name: repeats. (The model's are train_schema().)
const SettingsSchema<BenchJob>& bench_schema();

// Validates all inputs first; writes DIR only when the sweep has finished (a temporary directory
// renamed into place), so an interrupted sweep leaves nothing half-written. Throws subset::Error.
BenchResult run_bench(const BenchJob& job);

nlohmann::json to_json(const BenchResult& result);
// A fraction as written in file names and tables: shortest form, "0.1", "1e-05".
std::string fraction_label(double fraction);
// results.csv: a header, the full-data line, then one line per row.
std::string bench_results_csv(const BenchResult& result);
std::string format_bench(const BenchResult& result);
// Wall times as the verbose reports print them: "1.23 s", "1.23, 1.25, 1.22 s" (one per repeat).
std::string seconds_text(const std::vector<double>& seconds);
// Where the sweep's time went (`bench -v`): per row, each repeat's selection and training seconds,
// and the full-data trainings'.
std::string format_bench_timings(const BenchResult& result);
// Energy per percentage point of test accuracy ("J/pt", the column j_per_point): the joules of one
// run as the plot places it -- the selection (with its embedding) plus one training on the subset;
// for the full-data line one full training -- facility energy (PUE included, kWh x 3.6e6), divided
// by the mean test accuracy in percent. Lower is better. Infinite for 0% accuracy.
double joules_per_accuracy_point(double kwh, double accuracy);
double joules_per_accuracy_point(const BenchRow& row);
double joules_per_accuracy_point(const TrainingRuns& full);

}  // namespace subset::workflows
