// libsubset.select on an array or a store, and selection files (libsubset/workflows/select_job.h).
#include <pybind11/stl.h>

#include "bindings.h"
#include "call.h"
#include "convert.h"
#include "errors.h"
#include "libsubset/core/memory.h"
#include "libsubset/io/selection_file.h"
#include "libsubset/select/registry.h"
#include "libsubset/workflows/select_job.h"

namespace py = pybind11;

namespace subset::python {
namespace {

// What a selection call returns to the package's Selection class: the file (kept whole in C++, so
// that saving it writes exactly what the CLI would) and what is not in the file.
py::dict result_of(workflows::SelectOutcome outcome) {
  py::dict result;
  result["centroids"] = outcome.centroids.size() == 0 ? py::object(py::none()) : py::object(to_numpy(outcome.centroids));
  result["seconds"] = outcome.seconds;
  result["file"] = py::cast(std::move(outcome.selection));
  return result;
}

py::object optional_numpy(const std::vector<float>& values) {
  return values.empty() ? py::object(py::none()) : py::object(to_numpy(values));
}

// The fields SelectJob (a store) and ArraySelectJob (an array) share, from the keyword arguments.
template <class Job>
void set_common(Job& job, const std::string& method, const std::map<std::string, std::string>& params,
                std::optional<int64_t> budget, std::optional<double> fraction, const std::optional<IndexArray>& already,
                bool per_class, uint64_t seed, const std::optional<py::dict>& accounting) {
  job.method = method;
  job.params = text_params(params);
  job.budget = budget;
  job.fraction = fraction;
  if (already) job.already_selected = int_vector(*already, "already_selected");
  job.per_class = per_class;
  job.seed = seed;
  if (accounting) job.meter = meter_options(*accounting);
}

py::dict run_job(int threads, const py::object& progress, std::function<workflows::SelectOutcome(
                     const std::function<void(int64_t, int64_t)>&)> select) {
  ProgressRelay relay(progress);
  workflows::SelectOutcome outcome;
  run_released(threads, relay, [&] { outcome = select(relay.counter()); });
  return result_of(std::move(outcome));
}

py::dict select_array(const FloatArray& features, const std::optional<IndexArray>& labels, int64_t num_classes,
                      const std::string& source, const std::string& method, const std::map<std::string, std::string>& params,
                      std::optional<int64_t> budget, std::optional<double> fraction, const std::optional<IndexArray>& already,
                      bool per_class, uint64_t seed, const std::optional<py::dict>& accounting, int threads,
                      const py::object& progress) {
  workflows::ArraySelectJob job;
  set_common(job, method, params, budget, fraction, already, per_class, seed, accounting);
  const MatrixViewF rows = matrix_view(features, "X");
  job.features = rows.data();
  job.rows = rows.rows();
  job.cols = rows.cols();
  std::vector<int64_t> label_values;
  if (labels) label_values = int_vector(*labels, "y");
  job.labels = labels ? &label_values : nullptr;
  job.num_classes = num_classes;
  job.source = source;
  return run_job(threads, progress, [&](const std::function<void(int64_t, int64_t)>& counter) {
    job.progress = counter;
    return workflows::select_array(job);
  });
}

py::dict select_store(const std::string& store, const std::optional<std::string>& embedding,
                      const std::string& features_dataset, const std::string& method,
                      const std::map<std::string, std::string>& params, std::optional<int64_t> budget,
                      std::optional<double> fraction, const std::optional<IndexArray>& already, bool per_class, uint64_t seed,
                      const std::optional<py::dict>& accounting, int threads, const py::object& progress,
                      const std::optional<std::string>& memory_limit) {
  workflows::SelectJob job;
  set_common(job, method, params, budget, fraction, already, per_class, seed, accounting);
  if (memory_limit) job.memory_limit = parse_memory_size(*memory_limit, "memory_limit");
  job.store = store;
  job.embedding = embedding;
  job.features_dataset = features_dataset;
  return run_job(threads, progress, [&](const std::function<void(int64_t, int64_t)>& counter) {
    job.progress = counter;
    return workflows::run_select(job);
  });
}

py::dict read_selection(const std::string& path) {
  workflows::SelectOutcome outcome;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] { outcome.selection = io::read_selection(path); });
  outcome.seconds = outcome.selection.manifest.stats.value("seconds", 0.0);
  return result_of(std::move(outcome));
}

py::object select_methods() {
  nlohmann::json out = nlohmann::json::array();
  for (const select::MethodSpec& spec : select::methods())
    out.push_back({{"name", spec.name},
                   {"summary", spec.summary},
                   {"needs_features", spec.needs_features},
                   {"needs_labels", spec.needs_labels},
                   {"needs_scores", spec.needs_scores},
                   {"has_centroids", spec.has_centroids},
                   {"params", schema_json(spec.params)}});
  return to_python(out);
}

}  // namespace

void bind_select(py::module_& m) {
  m.def("select_array", &select_array, py::arg("features"), py::arg("labels"), py::arg("num_classes"), py::arg("source"),
        py::arg("method"), py::arg("params"), py::arg("budget"), py::arg("fraction"), py::arg("already_selected"),
        py::arg("per_class"), py::arg("seed"), py::arg("accounting"), py::arg("threads"), py::arg("progress"));
  m.def("select_store", &select_store, py::arg("store"), py::arg("embedding"), py::arg("features_dataset"),
        py::arg("method"), py::arg("params"), py::arg("budget"), py::arg("fraction"), py::arg("already_selected"),
        py::arg("per_class"), py::arg("seed"), py::arg("accounting"), py::arg("threads"), py::arg("progress"),
        py::arg("memory_limit"));
  py::class_<io::SelectionFile>(m, "SelectionFile")
      .def_property_readonly("indices", [](const io::SelectionFile& f) { return to_numpy(f.indices); })
      .def_property_readonly("weights", [](const io::SelectionFile& f) { return optional_numpy(f.weights); })
      .def_property_readonly("scores", [](const io::SelectionFile& f) { return optional_numpy(f.scores); })
      .def_property_readonly("manifest", [](const io::SelectionFile& f) { return to_python(io::to_json(f.manifest)); })
      .def("save", [](const io::SelectionFile& f, const std::string& path, bool force) {
            ProgressRelay relay{py::none()};
            run_released(-1, relay, [&] { io::write_selection(path, force, f); });
          }, py::arg("path"), py::arg("force"));
  m.def("read_selection", &read_selection, py::arg("path"));
  m.def("select_methods", &select_methods);
}

}  // namespace subset::python
