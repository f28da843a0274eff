#pragma once
// Turning outside data into feature stores: the embedded Fashion-MNIST default (IDX files from
// Debian's dataset-fashion-mnist package), NumPy .npy arrays and CSV tables. Each importer validates
// its whole input, writes the store atomically and returns the description of what it wrote.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/io/import_options.h"

#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"

namespace subset::io {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct OutputOptions {
  std::string path;
  bool force = false;
  WriteOptions write;
};

// What an import wrote (the store's description) and what it assumed or did on the way, one short
// line each ("layout NCHW (channels first) ...", "values 0..255 (uint8); ..."), for the front-end to
// show. to_json(): the StoreInfo keys plus "notes" (array of strings).
struct ImportReport {
  StoreInfo info;
  std::vector<std::string> notes;
  nlohmann::json to_json() const;
};

// Reads train/t10k images and labels (IDX, gzip'd or not) from `dir`; writes features as float32
// pixel / 255 in [0, 1], image_shape [1, 28, 28], the ten class names and the test split.
ImportReport import_fashion_mnist(const std::string& dir, const OutputOptions& out);

// How the axes of a 4-D image array [N, a, b, c] are ordered: channels first (the store's order)
// or channels last (transposed to channels first row by row while streaming).
enum class ImageLayout { NCHW, NHWC };

struct NpyImport {
  std::string features;                     // [N, ...] numeric array; trailing axes are flattened
  std::optional<std::string> labels;        // [N] integers
  std::optional<std::string> test_features;
  std::optional<std::string> test_labels;
  std::vector<int64_t> image_shape;         // optional [C, H, W]; inferred for [N, H, W] / [N, C, H, W]
  std::vector<std::string> class_names;     // optional
  // For 4-D features (and test features). Unset: a shape whose last axis is 1 or 3 (a channel count)
  // while the second is not, or both are, is refused as ambiguous, naming --layout; any other 4-D
  // shape is read as NCHW and the report says so.
  std::optional<ImageLayout> layout;
  std::optional<Scale> scale;
  std::optional<TestSplit> test_split;      // needs labels, and no test_features
};
// Streams the arrays in row blocks (the layout transpose and the scale are applied per block).
// Reports the layout assumed for a 4-D array and, for uint8 features without a scale, their range.
ImportReport import_npy(const NpyImport& request, const OutputOptions& out);

struct CsvImport {
  std::string path;
  std::optional<std::string> label_column;
  std::optional<std::string> test_path;     // same header as `path`
  char delimiter = ',';
  std::optional<Scale> scale;
  std::optional<TestSplit> test_split;      // needs label_column, and no test_path
};
ImportReport import_csv(const CsvImport& request, const OutputOptions& out);

}  // namespace subset::io
