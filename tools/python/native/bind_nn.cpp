// libsubset.evaluate, libsubset.condense (libsubset/workflows/evaluate.h, condense.h) and
// libsubset.al (libsubset/workflows/al/*.h): the jobs filled as tools/cmd_evaluate.cpp,
// cmd_condense.cpp, cmd_al.cpp and cmd_al_query.cpp fill them, results as the JSON their --json
// prints. Evaluate, condense and al.query train models (libsubset_workflows_nn, linked when the
// build has libtorch: SUBSET_PYTHON_WITH_TORCH); the other al calls need no libtorch.
#include <pybind11/stl.h>

#include <limits>

#include "bindings.h"
#include "call.h"
#include "convert.h"
#include "errors.h"
#include "libsubset/core/error.h"
#include "libsubset/core/progress.h"
#include "libsubset/io/store.h"
#include "libsubset/workflows/al/answers.h"
#include "libsubset/workflows/al/export.h"
#include "libsubset/workflows/al/init.h"
#include "libsubset/workflows/al/ledger.h"
#include "libsubset/workflows/al/query.h"
#include "libsubset/workflows/al/settings.h"
#include "libsubset/workflows/condense.h"
#include "libsubset/workflows/evaluate.h"

namespace py = pybind11;

namespace subset::python {
namespace {

using Params = std::map<std::string, std::string>;

// The keyword arguments (underscored, values as text) split between schemas: each goes to the
// first schema that declares it; one no schema declares is refused naming what the call takes.
std::vector<Params> route(const Params& keywords, const std::vector<const ParamSchema*>& schemas, const std::string& call) {
  std::vector<Params> out(schemas.size());
  for (const auto& [name, text] : text_params(keywords)) {
    bool found = false;
    for (size_t i = 0; i < schemas.size() && !found; ++i)
      if (schemas[i]->find(name)) {
        out[i][name] = text;
        found = true;
      }
    if (!found) {
      std::string known;
      for (const ParamSchema* schema : schemas)
        for (const ParamSpec& spec : schema->specs()) known += (known.empty() ? "" : ", ") + keyword_of(spec.name);
      throw ParamError(name, "unknown parameter '" + keyword_of(name) + "' of " + call + " (known: " + known + ")");
    }
  }
  return out;
}

// As the CLI's ParamOptions::given(schema, method, what): a given parameter must apply to the
// chosen method (model, ...).
void check_apply(const Params& given, const ParamSchema& schema, const std::string& method, const std::string& what) {
  for (const auto& [name, text] : given) {
    const ParamSpec* spec = schema.find(name);
    if (!spec || !spec->applies_to(method)) throw ParamError(name, "does not apply to " + what + " " + method);
  }
}

energy::MeterOptions meter_or_default(const std::optional<py::dict>& accounting) {
  return meter_options(accounting ? *accounting : py::dict());
}

std::optional<energy::MeterOptions> optional_meter(const std::optional<py::dict>& accounting) {
  if (!accounting) return std::nullopt;
  return meter_options(*accounting);
}

// ---- the torch-free side of al ---------------------------------------------------------------

py::object al_init(const std::string& pool, const std::string& output, const std::optional<std::string>& features,
                   const std::string& features_dataset, int64_t seed_size, const std::string& seed_method, uint64_t seed,
                   std::optional<int64_t> classes, const std::vector<std::string>& class_names,
                   const std::optional<std::string>& seed_out, bool force, const std::optional<py::dict>& accounting,
                   int threads) {
  workflows::al::InitJob job;
  job.pool = pool;
  job.output = output;
  job.features = features;
  job.features_dataset = features_dataset;
  job.seed_size = seed_size;
  job.seed_method = seed_method;
  job.seed = seed;
  job.classes = classes;
  job.class_names = class_names;
  job.seed_out = seed_out;
  job.force = force;
  job.meter = optional_meter(accounting);
  workflows::al::InitOutcome out;
  ProgressRelay relay{py::none()};
  run_released(threads, relay, [&] { out = workflows::al::run_init(job); });
  return to_python(workflows::al::to_json(job, out));
}

// labels: an int64 array of class ids, or a list of texts (class names or ids), as `al label`'s file.
py::object al_label(const std::string& project, const IndexArray& rows, const std::optional<IndexArray>& label_ids,
                    const std::optional<std::vector<std::string>>& label_texts, const std::string& source,
                    bool unsolicited) {
  const std::vector<int64_t> row_values = int_vector(rows, "rows");
  std::vector<int64_t> ids;
  if (label_ids) ids = int_vector(*label_ids, "labels");
  workflows::al::AnswerBatch batch;
  workflows::al::ApplyOutcome out;
  workflows::al::Snapshot snap;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] {
    workflows::al::Ledger ledger = workflows::al::Ledger::open(project);
    if (label_texts) {
      try {
        batch = workflows::al::make_answers(row_values, *label_texts, ledger.project().class_names, source);
      } catch (const FileError&) {
        throw;
      } catch (const Error& e) {
        throw ParamError("labels", e.message() + (e.where().empty() ? "" : " (" + e.where() + ")"));
      }
    } else {
      SUBSET_CHECK_PARAM(row_values.size() == ids.size(), "labels",
                         "one label per row: " << row_values.size() << " rows, " << ids.size() << " labels");
      SUBSET_CHECK_PARAM(!row_values.empty(), "rows", "no answers given");
      for (size_t i = 0; i < ids.size(); ++i) batch.answers.push_back({row_values[i], ids[i], source});
    }
    batch.unsolicited = unsolicited;
    out = ledger.apply_answers(batch);
    snap = ledger.snapshot();
  });
  return to_python(workflows::al::label_json(static_cast<int64_t>(batch.answers.size()), out, snap));
}

py::object al_status(const std::string& project) {
  workflows::al::Status status;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] { status = workflows::al::Ledger::open(project).status(); });
  return to_python(status.to_json());
}

// The labelled rows (ascending), their labels and rounds, and the pending rows with the round that
// proposed each and its score (NaN when the strategy gave none).
py::dict al_rows(const std::string& project) {
  workflows::al::Snapshot snap;
  std::vector<workflows::al::PendingRow> pending;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] {
    const workflows::al::Ledger ledger = workflows::al::Ledger::open(project);
    snap = ledger.snapshot();
    pending = ledger.pending();
  });
  std::vector<int64_t> rows, rounds;
  std::vector<float> scores;
  for (const workflows::al::PendingRow& p : pending) {
    rows.push_back(p.row);
    rounds.push_back(p.round);
    scores.push_back(p.score ? static_cast<float>(*p.score) : std::numeric_limits<float>::quiet_NaN());
  }
  py::dict out;
  out["labelled_rows"] = to_numpy(snap.labelled_rows);
  out["labels"] = to_numpy(snap.labels);
  out["label_rounds"] = to_numpy(snap.label_rounds);
  out["pending_rows"] = to_numpy(rows);
  out["pending_rounds"] = to_numpy(rounds);
  out["pending_scores"] = to_numpy(scores);
  out["rounds"] = snap.rounds;
  return out;
}

py::object al_export(const std::string& project, const std::string& output, bool force) {
  workflows::al::ExportJob job;
  job.project = project;
  job.output = output;
  job.force = force;
  workflows::al::ExportOutcome out;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] { out = workflows::al::run_export(job); });
  return to_python(workflows::al::to_json(job, out));
}

// ---- what trains ------------------------------------------------------------------------------

py::object schemas_of_nn() {
  py::dict out;
  out["train"] = to_python(schema_json(train_schema().schema()));
  out["evaluate"] = to_python(schema_json(workflows::evaluate_schema().schema()));
  out["condense"] = to_python(schema_json(condense_schema().schema()));
  out["al_query"] = to_python(schema_json(workflows::al::query_schema().schema()));
  out["al_strategy"] = to_python(schema_json(workflows::al::strategy_options_schema().schema()));
  out["al_proxy"] = to_python(schema_json(workflows::al::al_proxy_schema()));
  return std::move(out);
}

#ifdef SUBSET_PYTHON_WITH_TORCH

py::object evaluate(const std::string& store, const std::vector<std::string>& selections,
                    const std::vector<std::string>& selection_stores, const Params& params, uint64_t seed,
                    bool unweighted, bool no_full, bool no_cache, const std::string& cache,
                    const std::optional<py::dict>& accounting, int threads, const py::object& progress) {
  const std::vector<Params> given =
      route(params, {&train_schema().schema(), &workflows::evaluate_schema().schema()}, "evaluate");
  workflows::EvaluateJob job;
  job.store = store;
  job.selections = selections;
  job.selection_stores = selection_stores;
  train_schema().set_all(job.training, given[0]);
  check_apply(given[0], train_schema().schema(), job.training.model, "model");
  job.training.seed = seed;
  workflows::evaluate_schema().set_all(job, given[1]);
  job.use_cache = !no_cache;
  job.use_weights = !unweighted;
  job.train_full = !no_full;
  job.cache_path = cache;
  job.meter = meter_or_default(accounting);
  ProgressRelay relay(progress);
  job.status = relay.lines();
  // The CLI's one count over every epoch of every training, weighted by rows (core/progress.h).
  if (const auto counter = relay.counter())
    job.progress = [counter](const ProgressUpdate& u) { counter(u.done, u.total); };
  workflows::EvaluateResult result;
  run_released(threads, relay, [&] { result = workflows::run_evaluate(job); });
  return to_python(workflows::to_json(result));
}

py::object condense(const std::string& store, const std::string& output, const Params& params, uint64_t seed,
                    int64_t checkpoint_every, bool resume, bool force, const std::optional<py::dict>& accounting,
                    int threads, const py::object& progress) {
  const SettingsSchema<CondenseSettings>& schema = condense_schema();
  const Params given = route(params, {&schema.schema()}, "condense")[0];
  workflows::CondenseJob job;
  job.store = store;
  schema.set_all(job.settings, given);
  check_apply(given, schema.schema(), job.settings.method, "method");
  job.settings.seed = seed;
  job.output = output;
  job.force = force;
  SUBSET_CHECK_PARAM(checkpoint_every >= 0, "checkpoint-every", "must be a whole number >= 0, got " << checkpoint_every);
  job.checkpoint_every = checkpoint_every;
  job.resume = resume;
  job.meter = meter_or_default(accounting);
  ProgressRelay relay(progress);
  job.status = relay.lines();
  workflows::CondenseOutcome out;
  run_released(threads, relay, [&] { out = workflows::run_condense(job); });
  return to_python(workflows::to_json(out));
}

py::object al_query(const std::string& project, const Params& params, const std::string& output,
                    const std::string& images, bool force, const std::optional<py::dict>& accounting, int threads,
                    const py::object& progress) {
  const std::vector<Params> given = route(params,
                                          {&workflows::al::query_schema().schema(),
                                           &workflows::al::strategy_options_schema().schema(),
                                           &workflows::al::al_proxy_schema()},
                                          "al.query");
  workflows::al::QueryJob job;
  job.project = project;
  workflows::al::query_schema().set_all(job, given[0]);
  workflows::al::strategy_options_schema().set_all(job.options, given[1]);
  workflows::al::set_proxy_settings(job.proxy, given[2]);
  job.output = output;
  job.images = images;
  job.force = force;
  job.meter = optional_meter(accounting);
  ProgressRelay relay(progress);
  job.status = relay.lines();
  workflows::al::QueryOutcome out;
  run_released(threads, relay, [&] { out = workflows::al::run_al_query(job); });
  return to_python(workflows::al::to_json(out));
}

#else

[[noreturn]] void no_torch(const char* call) {
  throw Error(std::string(call) + " trains models, and this build of libsubset has no libtorch "
                                  "(configure with SUBSET_WITH_TORCH=ON)");
}

#endif

// A feature store's training split whole (a condensed set is small): features, labels, image shape.
py::dict read_training_split(const std::string& path) {
  RowMatrixF features;
  std::vector<int64_t> labels, image_shape;
  bool has_labels = false;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] {
    const io::FeatureStore store = io::FeatureStore::open(path);
    features = store.features().read_all();
    has_labels = store.info().has_labels;
    if (has_labels) labels = store.labels();
    image_shape = store.info().image_shape;
  });
  py::dict out;
  out["features"] = to_numpy(features);
  out["labels"] = has_labels ? py::object(to_numpy(labels)) : py::object(py::none());
  out["image_shape"] = image_shape.empty() ? py::object(py::none()) : py::object(py::tuple(py::cast(image_shape)));
  return out;
}

}  // namespace

void bind_nn(py::module_& m) {
#ifdef SUBSET_PYTHON_WITH_TORCH
  m.def("evaluate", &evaluate, py::arg("store"), py::arg("selections"), py::arg("selection_stores"), py::arg("params"),
        py::arg("seed"), py::arg("unweighted"), py::arg("no_full"), py::arg("no_cache"), py::arg("cache"),
        py::arg("accounting"), py::arg("threads"), py::arg("progress"));
  m.def("condense", &condense, py::arg("store"), py::arg("output"), py::arg("params"), py::arg("seed"),
        py::arg("checkpoint_every"), py::arg("resume"), py::arg("force"), py::arg("accounting"), py::arg("threads"),
        py::arg("progress"));
  m.def("al_query", &al_query, py::arg("project"), py::arg("params"), py::arg("output"), py::arg("images"),
        py::arg("force"), py::arg("accounting"), py::arg("threads"), py::arg("progress"));
#else
  m.def("evaluate", [](py::args, py::kwargs) { no_torch("evaluate"); });
  m.def("condense", [](py::args, py::kwargs) { no_torch("condense"); });
  m.def("al_query", [](py::args, py::kwargs) { no_torch("al.query"); });
#endif
  m.def("nn_schemas", &schemas_of_nn);
  m.def("read_training_split", &read_training_split, py::arg("path"));
  m.def("al_init", &al_init, py::arg("pool"), py::arg("output"), py::arg("features"), py::arg("features_dataset"),
        py::arg("seed_size"), py::arg("seed_method"), py::arg("seed"), py::arg("classes"), py::arg("class_names"),
        py::arg("seed_out"), py::arg("force"), py::arg("accounting"), py::arg("threads"));
  m.def("al_label", &al_label, py::arg("project"), py::arg("rows"), py::arg("label_ids"), py::arg("label_texts"),
        py::arg("source"), py::arg("unsolicited"));
  m.def("al_status", &al_status, py::arg("project"));
  m.def("al_rows", &al_rows, py::arg("project"));
  m.def("al_export", &al_export, py::arg("project"), py::arg("output"), py::arg("force"));
  m.def("al_seed_methods", [] { return workflows::al::seed_methods(); });
}

}  // namespace subset::python
