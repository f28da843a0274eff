#pragma once
// Turning outside data into feature stores: the embedded Fashion-MNIST default (IDX files from
// Debian's dataset-fashion-mnist package), NumPy .npy arrays and CSV tables. Each importer validates
// its whole input, writes the store atomically and returns the description of what it wrote.
#include <optional>
#include <string>
#include <vector>

#include "libsubset/io/store.h"
#include "libsubset/io/store_writer.h"

namespace subset::io {

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

struct OutputOptions {
  std::string path;
  bool force = false;
  WriteOptions write;
};

// Reads train/t10k images and labels (IDX, gzip'd or not) from `dir`; writes features as float32
// pixel / 255 in [0, 1], image_shape [1, 28, 28], the ten class names and the test split.
StoreInfo import_fashion_mnist(const std::string& dir, const OutputOptions& out);

struct NpyImport {
  std::string features;                     // [N, ...] numeric array; trailing axes are flattened
  std::optional<std::string> labels;        // [N] integers
  std::optional<std::string> test_features;
  std::optional<std::string> test_labels;
  std::vector<int64_t> image_shape;         // optional [C, H, W]; inferred for [N, H, W] / [N, C, H, W]
  std::vector<std::string> class_names;     // optional
};
StoreInfo import_npy(const NpyImport& request, const OutputOptions& out);

struct CsvImport {
  std::string path;
  std::optional<std::string> label_column;
  std::optional<std::string> test_path;     // same header as `path`
  char delimiter = ',';
};
StoreInfo import_csv(const CsvImport& request, const OutputOptions& out);

}  // namespace subset::io
