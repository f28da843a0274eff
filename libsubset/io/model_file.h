#pragma once
// Model files: a fitted transform (random projection, PCA, autoencoder) saved so that it can be
// applied to other data later with nothing else. Layout (docs/format.md, "Model files"):
//   /<array>  float32, one dataset per named array of the model (e.g. /components [K, D], /mean [D])
//   attrs on /: format = "subset-transform", format_version = 1, method, input_dim, output_dim,
//   params (JSON), stats (JSON), seed (decimal text), source, source_checksum, created_by,
//   energy (JSON, optional)
// The file knows nothing of the methods: libsubset/transform turns a ModelState into a transform.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "libsubset/core/model_state.h"

namespace subset::io {

inline constexpr const char* kModelFormatName = "subset-transform";

struct ModelFile {
  ModelState state;
  uint64_t seed = 0;            // the seed of the fit
  std::string source;           // path of the store it was fitted on
  std::string source_checksum;  // that store's /features checksum
  std::string created_by;
  nlohmann::json energy = nullptr;  // energy report of the fit, or null
};

// Writes atomically (temporary name, rename); refuses an existing path unless force. Array names
// must be lower-case identifiers ([a-z0-9_]+).
void write_model_file(const std::string& path, bool force, const ModelFile& model);
// Reads and validates the container: an HDF5 file whose format is "subset-transform", dimensions
// >= 1, JSON attributes that parse, float arrays. Whether the arrays fit the method is for the
// transform to check when it loads the state.
ModelFile read_model_file(const std::string& path);

}  // namespace subset::io
