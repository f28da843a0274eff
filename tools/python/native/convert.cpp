#include "convert.h"

#include <cstring>

#include "errors.h"
#include "libsubset/energy/accounting.h"

namespace py = pybind11;

namespace subset::python {

MatrixViewF matrix_view(const FloatArray& array, const char* name) {
  SUBSET_CHECK_PARAM(array.ndim() == 2, name, "must be a 2-D array (rows x features), got " << array.ndim() << " dimensions");
  return view(array.data(), array.shape(0), array.shape(1));
}

std::vector<int64_t> int_vector(const IndexArray& array, const char* name) {
  SUBSET_CHECK_PARAM(array.ndim() == 1, name, "must be a 1-D array, got " << array.ndim() << " dimensions");
  return std::vector<int64_t>(array.data(), array.data() + array.shape(0));
}

py::array_t<int64_t> to_numpy(const std::vector<int64_t>& values) {
  py::array_t<int64_t> out(static_cast<py::ssize_t>(values.size()));
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(int64_t));
  return out;
}

py::array_t<float> to_numpy(const std::vector<float>& values) {
  py::array_t<float> out(static_cast<py::ssize_t>(values.size()));
  if (!values.empty()) std::memcpy(out.mutable_data(), values.data(), values.size() * sizeof(float));
  return out;
}

py::array_t<float> to_numpy(const RowMatrixF& matrix) {
  py::array_t<float> out({static_cast<py::ssize_t>(matrix.rows()), static_cast<py::ssize_t>(matrix.cols())});
  if (matrix.size() > 0) std::memcpy(out.mutable_data(), matrix.data(), static_cast<size_t>(matrix.size()) * sizeof(float));
  return out;
}

std::map<std::string, std::string> text_params(const std::map<std::string, std::string>& keywords) {
  std::map<std::string, std::string> given;
  for (const auto& [keyword, text] : keywords) given[parameter_of(keyword)] = text;
  return given;
}

py::object to_python(const nlohmann::json& value) {
  return py::module_::import("json").attr("loads")(value.dump());
}

nlohmann::json from_python(const py::handle& value) {
  return nlohmann::json::parse(py::module_::import("json").attr("dumps")(value).cast<std::string>());
}

energy::MeterOptions meter_options(const py::dict& accounting) {
  energy::AccountingChoice choice;
  std::optional<double> cpu_watts;
  for (const auto& [key, value] : accounting) {
    const std::string name = py::str(key);
    if (value.is_none()) continue;
    if (name == "region") choice.region = value.cast<std::string>();
    else if (name == "carbon_intensity") choice.carbon_intensity = value.cast<double>();
    else if (name == "pue") choice.pue = value.cast<double>();
    else if (name == "cpu_watts") cpu_watts = value.cast<double>();
    else SUBSET_FAIL_PARAM("energy", "unknown accounting setting '" << name << "' (known: region, carbon_intensity, pue, cpu_watts)");
  }
  return energy::MeterOptions::resolve(choice, cpu_watts);
}

nlohmann::json schema_json(const ParamSchema& schema) {
  nlohmann::json params = nlohmann::json::array();
  for (const ParamSpec& spec : schema.specs()) {
    nlohmann::json p = {{"name", keyword_of(spec.name)},
                        {"type", to_string(spec.type)},
                        {"label", spec.type_label()},
                        {"domain", spec.describe_domain()},
                        {"default_text", spec.default_text()},
                        {"doc", spec.doc},
                        {"methods", spec.methods},
                        {"choices", spec.choices}};
    if (spec.default_note.empty()) {
      std::visit([&p](const auto& v) { p["default"] = v; }, spec.default_value);
    } else {
      p["default"] = nullptr;
    }
    params.push_back(std::move(p));
  }
  return params;
}

}  // namespace subset::python
