#pragma once
// Turning outside data into feature stores: the embedded Fashion-MNIST default (IDX files from
// Debian's dataset-fashion-mnist package), NumPy .npy arrays and CSV tables. Each importer validates
// its whole input, writes the store atomically and returns the description of what it wrote.
#include <cstdint>
#include <nlohmann/json.hpp>
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

// What an import wrote (the store's description) and what it assumed or did on the way, one short
// line each ("layout NCHW (channels first) ...", "values 0..255 (uint8); ..."), for the front-end to
// show. to_json(): the StoreInfo keys plus "notes" (array of strings).
struct ImportReport {
  StoreInfo info;
  std::vector<std::string> notes;
  nlohmann::json to_json() const;
};

// --scale: a positive finite factor every feature value is multiplied by, written as a decimal
// ("0.5", "2e-3") or a fraction A/B of two such numbers ("1/255"). A value v (already float32) becomes
// float32((double(v) * numerator) / denominator): "1/255" gives exactly numpy's
// x.astype(float32) / 255 for integer pixels, the Fashion-MNIST import's values.
struct Scale {
  double numerator = 1;
  double denominator = 1;
  std::string text;  // as given, e.g. "1/255"; recorded in the store
  double factor() const { return numerator / denominator; }
  float apply(float v) const {
    return static_cast<float>(static_cast<double>(v) * numerator / denominator);
  }
};
// Throws ParamError naming "scale" for anything but a positive finite number or fraction.
Scale parse_scale(const std::string& text);

// `import --test-fraction F --seed S`: a stratified held-out split made from the training rows.
struct TestSplit {
  double fraction = 0;  // in (0, 1)
  uint64_t seed = 0;
};
// How many rows of each class (class_sizes[c] rows of class c) go to the test split: T =
// round(F * N) in all (halves away from zero), divided in proportion to the class sizes by largest
// remainder (ties to the lower class id), except that a class keeps at least one row for training
// (a class of one row is never held out). Throws ParamError naming "test-fraction" when T is 0 or
// larger than what can be held out under that rule, or F is not in (0, 1).
std::vector<int64_t> stratified_test_counts(const std::vector<int64_t>& class_sizes, double fraction);
// The rows (ascending) held out for labels[0..N): stratified_test_counts of the label counts, the
// rows of class c drawn uniformly from its rows by Rng(seed).fork(c). Deterministic in the seed.
std::vector<int64_t> stratified_test_rows(const std::vector<int64_t>& labels, const TestSplit& split);

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
