#pragma once
// Reading the HDF5 feature store, format version 1 (docs/format.md):
//   /features        float32 [N, D], chunked by rows; attr "image_shape" = [C, H, W] for images
//   /labels          integer [N] (optional), attr "class_names" (optional)
//   /test/features   float32 [M, D] (optional held-out split, same D)
//   /test/labels     integer [M]
//   attrs on /       "format" = "subset-store", "format_version" = 1, "source", "created_by"
// open() validates structure, shapes, dtypes, labels (class ids in [0, max(N, class names)), the
// int64 range for unsigned types) and weights (finite, >= 0) without reading the features; feature
// values are checked by streaming (find_non_finite_row) when a command needs them. Virtual and
// external-storage datasets are refused.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "libsubset/core/matrix.h"

namespace subset::io {

inline constexpr const char* kFormatName = "subset-store";
inline constexpr int64_t kFormatVersion = 1;

enum class Split { Train, Test };
const char* features_dataset(Split split);  // "/features" or "/test/features"
const char* labels_dataset(Split split);    // "/labels" or "/test/labels"

struct ArrayInfo {
  std::string dataset;       // e.g. "/features"
  int64_t rows = 0;
  int64_t cols = 0;
  std::string dtype;         // "float32"
  int64_t chunk_rows = 0;    // 0 when the dataset is not chunked
  std::string compression;   // "none", or the filter pipeline, e.g. "shuffle+gzip(4)"
  uint64_t storage_bytes = 0;
  std::string checksum;      // the stored "checksum" attribute; empty when absent
};

// A "same rows" store (docs/format.md) holds one row per row of another store, in the same order
// (an embedding of it): a selection made on it is a selection of that store's rows. Recorded as
// the root attribute "same_rows" = {"source": path, "checksum": features_checksum(), "n": rows}.
struct SameRows {
  std::string source;
  std::string checksum;
  int64_t n = 0;
  nlohmann::json to_json() const { return {{"source", source}, {"checksum", checksum}, {"n", n}}; }
  // Null or damaged JSON gives nullopt: the record is provenance, and without it a selection is
  // simply tied to the store it was made on.
  static std::optional<SameRows> from_json(const nlohmann::json& j);
};

struct StoreInfo {
  std::string path;
  uint64_t file_size = 0;
  int64_t format_version = kFormatVersion;
  bool format_declared = false;  // false when the root attributes are absent (read as v1)
  std::string source;
  std::string created_by;
  // The energy report of the run that wrote the store (root attribute "energy", JSON), or null.
  nlohmann::json energy = nullptr;
  std::optional<SameRows> same_rows;  // root attribute "same_rows"; nullopt when absent
  // What made an embedding store (root attribute "embedding", JSON: model, settings, input_dim), or
  // null.
  nlohmann::json embedding = nullptr;
  // The smallest and largest feature value of both splits (root attributes value_min/value_max,
  // recorded by StoreWriter); nullopt in stores written before they were recorded.
  std::optional<double> value_min, value_max;
  ArrayInfo features;
  std::vector<int64_t> image_shape;  // [C, H, W], empty when not images
  std::vector<std::string> class_names;
  bool has_labels = false;
  std::map<int64_t, int64_t> class_counts;  // label -> count, train split
  bool has_weights = false;  // /weights float32 [N]: how many points each row stands for
  bool has_test = false;
  ArrayInfo test_features;
  bool has_test_labels = false;
  std::map<int64_t, int64_t> test_class_counts;

  int64_t n() const { return features.rows; }
  int64_t dim() const { return features.cols; }
  int64_t test_n() const { return has_test ? test_features.rows : 0; }
  // Number of classes: class_names.size() when names are given, else 1 + the largest label seen.
  int64_t num_classes() const;
  // Keys: path, file_size, format, format_version, source, created_by, energy, same_rows
  // (object|null), n, dim, dtype,
  // image_shape (array|null), chunk_rows, compression, storage_bytes, checksum (string|null),
  // class_names, num_classes, class_counts (label -> count),
  // test_n, test_class_counts, value_min, value_max (number|null).
  nlohmann::json to_json() const;
};

class FeatureStore;

// How a CRC-32 of feature bytes is written in stores and selection manifests.
std::string format_checksum(unsigned long crc32);
// The checksum a store holding exactly these rows as its /features records ("crc32:xxxxxxxx"), so
// a selection made from an array in memory names the store it was read from.
std::string features_checksum_of(MatrixViewF rows);

// One 2-D float32 array of a store, read whole, by row range or streamed in blocks.
class FeatureArray {
 public:
  const ArrayInfo& info() const { return info_; }
  int64_t rows() const { return info_.rows; }
  int64_t cols() const { return info_.cols; }

  // Reads rows [begin, begin + count) into out (count * cols floats).
  void read_rows(int64_t begin, int64_t count, float* out) const;
  RowMatrixF read_rows(int64_t begin, int64_t count) const;
  RowMatrixF read_all() const;

  // A block size in rows close to target_bytes, rounded to whole chunks (so each read maps onto
  // whole chunks), at least one chunk.
  int64_t block_rows_for(size_t target_bytes) const;
  // Streams the array: fn(first_row, block) for consecutive blocks until fn returns false;
  // memory is one block.
  void for_each_block(int64_t block_rows, const std::function<bool(int64_t, MatrixViewF)>& fn) const;
  // First row holding NaN or +-Inf, or -1. Streams with blocks of about block_bytes.
  int64_t find_non_finite_row(size_t block_bytes = size_t{64} << 20) const;

 private:
  friend class FeatureStore;
  struct Impl;
  FeatureArray(std::shared_ptr<Impl> impl, ArrayInfo info) : impl_(std::move(impl)), info_(std::move(info)) {}
  std::shared_ptr<Impl> impl_;
  ArrayInfo info_;
};

class FeatureStore {
 public:
  // Opens and validates; throws Error naming the file and the first problem found.
  static FeatureStore open(const std::string& path);

  const StoreInfo& info() const { return info_; }
  const std::string& path() const { return info_.path; }

  FeatureArray features(Split split = Split::Train) const;
  // Another 2-D float32 dataset of the same store (e.g. embeddings), which must have N rows,
  // whatever its name (/test/features included: use features(Split::Test) for the test split).
  FeatureArray array(const std::string& dataset) const;
  std::vector<int64_t> labels(Split split = Split::Train) const;
  // /weights of the training split; throws when the store has none.
  std::vector<float> weights() const;
  bool has_dataset(const std::string& dataset) const;

  // Throws Error naming the first row with NaN or Inf in the given split.
  void check_finite(Split split = Split::Train) const;
  // "crc32:xxxxxxxx" of the split's feature bytes (row-major float32): the "checksum" attribute
  // that libsubset writes, or computed by streaming when a store has none.
  std::string features_checksum(Split split = Split::Train) const;

 private:
  friend class FeatureArray;
  struct File;
  FeatureArray open_array(const std::string& dataset, int64_t expected_rows, const char* reference) const;
  FeatureStore() = default;
  std::shared_ptr<File> file_;
  StoreInfo info_;
};

}  // namespace subset::io
