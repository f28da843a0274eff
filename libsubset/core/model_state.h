#pragma once
// A fitted model as plain data: what it is (method, dimensions, parameters, figures of the fit)
// and its numbers (named float32 arrays). The transforms (libsubset/transform, libsubset/nn) save
// into it and load from it; io writes and reads it as an HDF5 model file (io/model_file.h). Living
// here, it lets neither of them depend on the other.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "libsubset/core/error.h"

namespace subset {

struct FloatArray {
  std::vector<int64_t> shape;  // e.g. {K, D}; the product equals values.size()
  std::vector<float> values;   // row-major
};

struct ModelState {
  std::string method;                               // e.g. "pca"
  int64_t input_dim = 0;                            // D
  int64_t output_dim = 0;                           // K
  nlohmann::json params = nlohmann::json::object();  // the method's parameters, defaults included
  nlohmann::json stats = nlohmann::json::object();   // what the fit measured
  std::map<std::string, FloatArray> arrays;

  // The named array with exactly `shape`; throws Error naming `where` when it is absent or has
  // another shape.
  const FloatArray& array(const std::string& name, const std::vector<int64_t>& shape, const std::string& where) const {
    const auto it = arrays.find(name);
    SUBSET_CHECK(it != arrays.end(), where, "model has no array '" << name << "' (" << method << ")");
    const FloatArray& a = it->second;
    bool same = a.shape == shape;
    std::string got, want;
    for (int64_t s : a.shape) got += (got.empty() ? "" : "x") + std::to_string(s);
    for (int64_t s : shape) want += (want.empty() ? "" : "x") + std::to_string(s);
    SUBSET_CHECK(same, where, "model array '" << name << "' has shape [" << got << "], expected [" << want << "]");
    return a;
  }
};

}  // namespace subset
