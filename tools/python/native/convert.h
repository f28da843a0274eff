#pragma once
// Between numpy / Python values and the library's types. Arrays come in already float32 and
// C-contiguous (the package's Python side converts anything else once): they are viewed in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"
#include "libsubset/core/params.h"
#include "libsubset/energy/meter.h"

namespace subset::python {

using FloatArray = pybind11::array_t<float, pybind11::array::c_style>;
using IndexArray = pybind11::array_t<int64_t, pybind11::array::c_style>;

// A view of a 2-D float32 C-contiguous array (no copy); ValueError naming `name` otherwise.
MatrixViewF matrix_view(const FloatArray& array, const char* name);
std::vector<int64_t> int_vector(const IndexArray& array, const char* name);

pybind11::array_t<int64_t> to_numpy(const std::vector<int64_t>& values);
pybind11::array_t<float> to_numpy(const std::vector<float>& values);
pybind11::array_t<float> to_numpy(const RowMatrixF& matrix);

// Keyword arguments (underscored names, values already text) as a schema's given parameters.
std::map<std::string, std::string> text_params(const std::map<std::string, std::string>& keywords);

// JSON text <-> Python objects through the json module: results carry dicts (stats, manifests,
// energy reports) whose shape the library defines.
pybind11::object to_python(const nlohmann::json& value);
nlohmann::json from_python(const pybind11::handle& value);

// The meter's options from the accounting keywords {"region", "carbon_intensity", "pue",
// "cpu_watts"} (each optional), with the environment's overrides, as the CLI's global options.
energy::MeterOptions meter_options(const pybind11::dict& accounting);

// Every parameter of a schema, for docstrings, stubs and get_params.
nlohmann::json schema_json(const ParamSchema& schema);

}  // namespace subset::python
