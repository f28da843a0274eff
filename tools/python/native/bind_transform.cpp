// The transforms of `subset compress` (PCA, random projections, autoencoder) on arrays: fit, apply,
// reconstruct, and the model files of --model-out / --apply (libsubset/workflows/compress_job.h).
// The package's estimators (libsubset/estimators.py) give them scikit-learn's shape.
#include <pybind11/stl.h>

#include <cstring>
#include <memory>

#include "bindings.h"
#include "call.h"
#include "convert.h"
#include "errors.h"
#include "libsubset/io/model_file.h"
#include "libsubset/transform/registry.h"
#include "libsubset/workflows/compress_job.h"

namespace py = pybind11;

namespace subset::python {
namespace {

// A fitted (or loaded) transform with the model file that saving it writes.
struct TransformModel {
  std::shared_ptr<const transform::Transform> transform;
  io::ModelFile model;
};

py::array_t<float> array_of(const subset::FloatArray& a) {
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  py::array_t<float> out(shape);
  if (!a.values.empty()) std::memcpy(out.mutable_data(), a.values.data(), a.values.size() * sizeof(float));
  return out;
}

py::dict arrays_of(const TransformModel& m) {
  py::dict out;
  for (const auto& [name, a] : m.model.state.arrays) out[py::str(name)] = array_of(a);
  return out;
}

TransformModel fit_model(const FloatArray& features, const std::string& method,
                         const std::map<std::string, std::string>& params, std::optional<int64_t> dim,
                         std::optional<double> variance, std::optional<double> eps, uint64_t seed, const std::string& source,
                         int threads, const py::object& progress) {
  const MatrixViewF x = matrix_view(features, "X");
  workflows::ArrayFitJob job;
  job.source = source;
  job.method = method;
  job.params = text_params(params);
  job.target.dim = dim;
  job.target.variance = variance;
  job.target.eps = eps;
  job.seed = seed;
  ProgressRelay relay(progress);
  job.status = relay.lines();
  workflows::ArrayFitOutcome outcome;
  run_released(threads, relay, [&] { outcome = workflows::fit_array(job, x); });
  return TransformModel{std::move(outcome.transform), std::move(outcome.model)};
}

TransformModel load_model(const std::string& path) {
  TransformModel m;
  ProgressRelay relay{py::none()};
  run_released(-1, relay, [&] {
    m.model = io::read_model_file(path);
    m.transform = transform::load(m.model.state, path);
  });
  return m;
}

// The model as plain Python values (for pickling) and back.
py::dict state_of(const TransformModel& m) {
  const ModelState& s = m.model.state;
  py::dict out;
  out["method"] = s.method;
  out["input_dim"] = s.input_dim;
  out["output_dim"] = s.output_dim;
  out["params"] = to_python(s.params);
  out["stats"] = to_python(s.stats);
  out["arrays"] = arrays_of(m);
  out["seed"] = m.model.seed;
  out["source"] = m.model.source;
  out["source_checksum"] = m.model.source_checksum;
  out["created_by"] = m.model.created_by;
  out["energy"] = to_python(m.model.energy);
  return out;
}

TransformModel model_from_state(const py::dict& state) {
  TransformModel m;
  ModelState& s = m.model.state;
  s.method = state["method"].cast<std::string>();
  s.input_dim = state["input_dim"].cast<int64_t>();
  s.output_dim = state["output_dim"].cast<int64_t>();
  s.params = from_python(state["params"]);
  s.stats = from_python(state["stats"]);
  for (const auto& [name, value] : state["arrays"].cast<py::dict>()) {
    const auto a = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(value);
    SUBSET_CHECK_PARAM(a, "state", "model array '" << std::string(py::str(name)) << "' is not a float array");
    subset::FloatArray array;
    array.shape.assign(a.shape(), a.shape() + a.ndim());
    array.values.assign(a.data(), a.data() + a.size());
    s.arrays[py::str(name).cast<std::string>()] = std::move(array);
  }
  m.model.seed = state["seed"].cast<uint64_t>();
  m.model.source = state["source"].cast<std::string>();
  m.model.source_checksum = state["source_checksum"].cast<std::string>();
  m.model.created_by = state["created_by"].cast<std::string>();
  m.model.energy = from_python(state["energy"]);
  m.transform = transform::load(s, "pickled model");
  return m;
}

py::object transform_methods() {
  nlohmann::json out = nlohmann::json::array();
  for (const transform::MethodSpec& spec : transform::methods())
    out.push_back({{"name", spec.name},
                   {"summary", spec.summary},
                   {"takes_variance", spec.takes_variance},
                   {"takes_eps", spec.takes_eps},
                   {"needs_torch", spec.needs_torch},
                   {"available", transform::available(spec.name)},
                   {"params", schema_json(spec.params)}});
  return to_python(out);
}

}  // namespace

void bind_transform(py::module_& m) {
  py::class_<TransformModel>(m, "TransformModel")
      .def_property_readonly("method", [](const TransformModel& t) { return t.model.state.method; })
      .def_property_readonly("input_dim", [](const TransformModel& t) { return t.model.state.input_dim; })
      .def_property_readonly("output_dim", [](const TransformModel& t) { return t.model.state.output_dim; })
      .def_property_readonly("can_reconstruct", [](const TransformModel& t) { return t.transform->can_reconstruct(); })
      .def_property_readonly("params", [](const TransformModel& t) { return to_python(t.model.state.params); })
      .def_property_readonly("stats", [](const TransformModel& t) { return to_python(t.model.state.stats); })
      .def_property_readonly("seed", [](const TransformModel& t) { return t.model.seed; })
      .def_property_readonly("source", [](const TransformModel& t) { return t.model.source; })
      .def_property_readonly("source_checksum", [](const TransformModel& t) { return t.model.source_checksum; })
      .def_property_readonly("created_by", [](const TransformModel& t) { return t.model.created_by; })
      .def_property_readonly("arrays", &arrays_of)
      .def("apply", [](const TransformModel& t, const FloatArray& rows, int threads) {
            const MatrixViewF x = matrix_view(rows, "X");
            RowMatrixF out;
            ProgressRelay relay{py::none()};
            run_released(threads, relay, [&] { out = workflows::apply_array(*t.transform, x, "X"); });
            return to_numpy(out);
          }, py::arg("rows"), py::arg("threads"))
      .def("reconstruct", [](const TransformModel& t, const FloatArray& codes, int threads) {
            const MatrixViewF x = matrix_view(codes, "X");
            RowMatrixF out;
            ProgressRelay relay{py::none()};
            run_released(threads, relay, [&] { out = workflows::reconstruct_array(*t.transform, x, "X"); });
            return to_numpy(out);
          }, py::arg("codes"), py::arg("threads"))
      .def("save", [](const TransformModel& t, const std::string& path, bool force) {
            ProgressRelay relay{py::none()};
            run_released(-1, relay, [&] { io::write_model_file(path, force, t.model); });
          }, py::arg("path"), py::arg("force"))
      .def("state", &state_of);
  m.def("fit_transform_model", &fit_model, py::arg("features"), py::arg("method"), py::arg("params"), py::arg("dim"),
        py::arg("variance"), py::arg("eps"), py::arg("seed"), py::arg("source"), py::arg("threads"), py::arg("progress"));
  m.def("load_transform_model", &load_model, py::arg("path"));
  m.def("transform_model_from_state", &model_from_state, py::arg("state"));
  m.def("transform_methods", &transform_methods);
  m.def("jl_min_dim", &transform::jl_min_dim, py::arg("n"), py::arg("eps"));
}

}  // namespace subset::python
