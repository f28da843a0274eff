#include "libsubset/io/importers.h"

#include <sys/stat.h>

#include <algorithm>
#include <future>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/csv.h"
#include "libsubset/io/idx.h"
#include "libsubset/io/npy.h"

namespace subset::io {
namespace {

constexpr size_t kBlockBytes = size_t{16} << 20;  // rows are moved to disk in ~16 MiB blocks

const std::string kCreatedBy = std::string("libsubset ") + kVersion + " (subset import)";

// Rows per write: whole chunks, about kBlockBytes.
int64_t block_rows(const WriteOptions& w, int64_t rows, int64_t cols) {
  const int64_t chunk = w.chunk_rows > 0 ? w.chunk_rows : default_chunk_rows(rows, cols);
  const int64_t target = std::max<int64_t>(1, static_cast<int64_t>(kBlockBytes) / (cols * 4));
  return std::max(chunk, target / chunk * chunk);
}

// `bound`: labels are class ids below max(training rows, class names), as FeatureStore::open
// requires; checked here so the import fails before anything is written.
void check_labels(const std::vector<int64_t>& labels, int64_t rows, int64_t bound, const std::string& where,
                  const std::string& what) {
  SUBSET_CHECK(static_cast<int64_t>(labels.size()) == rows, where,
               what << " have " << labels.size() << " entries but the features have " << rows << " rows");
  for (size_t i = 0; i < labels.size(); ++i) {
    SUBSET_CHECK(labels[i] >= 0, where, "negative label " << labels[i] << " at row " << i);
    SUBSET_CHECK(labels[i] < bound, where,
                 "label " << labels[i] << " at row " << i << " is not a class id: labels must be below " << bound
                          << " (the number of training rows or of class names, whichever is larger)");
  }
}

// ---- Fashion-MNIST ----

const std::vector<std::string> kFashionClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                  "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

std::string find_idx(const std::string& dir, const std::string& stem) {
  for (const std::string& name : {stem + ".gz", stem}) {
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) == 0) return dir + "/" + name;
  }
  SUBSET_FAIL(dir, "Fashion-MNIST file " << stem << ".gz not found (install the Debian package "
                                             "dataset-fashion-mnist, or pass --dataset-dir)");
}

struct IdxSplit {
  IdxArray images;
  std::vector<int64_t> labels;
};

IdxSplit read_idx_split(const std::string& images_path, const std::string& labels_path) {
  IdxSplit s;
  s.images = read_idx_u8(images_path);
  SUBSET_CHECK(s.images.shape.size() == 3 && s.images.shape[1] == 28 && s.images.shape[2] == 28, images_path,
               "expected images of shape [N, 28, 28]");
  IdxArray labels = read_idx_u8(labels_path);
  SUBSET_CHECK(labels.shape.size() == 1, labels_path, "expected a 1-D label file");
  SUBSET_CHECK(labels.shape[0] == s.images.shape[0], labels_path,
               "has " << labels.shape[0] << " labels for " << s.images.shape[0] << " images");
  s.labels.assign(labels.data.begin(), labels.data.end());
  for (size_t i = 0; i < s.labels.size(); ++i)
    SUBSET_CHECK(s.labels[i] < 10, labels_path, "label " << s.labels[i] << " at row " << i << " is not in 0..9");
  return s;
}

void write_idx_split(StoreWriter& w, Split split, const IdxSplit& s, const WriteOptions& opts) {
  const int64_t rows = s.images.shape[0];
  const int64_t cols = 28 * 28;
  w.begin_features(split, rows, cols);
  const int64_t step = block_rows(opts, rows, cols);
  std::vector<float> block(static_cast<size_t>(std::min(step, rows) * cols));
  for (int64_t begin = 0; begin < rows; begin += step) {
    const int64_t count = std::min(step, rows - begin);
    const uint8_t* src = s.images.data.data() + begin * cols;
    // Division (not multiplication by 1/255) so values equal numpy's `x.astype(float32) / 255`.
    for (int64_t i = 0; i < count * cols; ++i) block[i] = static_cast<float>(src[i]) / 255.0f;
    w.write_rows(split, count, block.data());
  }
  w.write_labels(split, s.labels);
}

// ---- .npy ----

std::vector<int64_t> infer_image_shape(const NpyHeader& h) {
  if (h.shape.size() == 3) return {1, h.shape[1], h.shape[2]};
  if (h.shape.size() == 4) return {h.shape[1], h.shape[2], h.shape[3]};
  return {};
}

void check_feature_array(const NpyReader& r) {
  SUBSET_CHECK(r.header().shape.size() >= 2, r.path(),
               "features must be at least 2-D [N, D], found shape of rank " << r.header().shape.size());
  SUBSET_CHECK(r.rows() > 0, r.path(), "features have no rows");
  SUBSET_CHECK(r.cols() > 0, r.path(), "features have zero columns");
}

void stream_npy(StoreWriter& w, Split split, NpyReader& r, const WriteOptions& opts) {
  w.set_origin(split, r.path());
  w.begin_features(split, r.rows(), r.cols());
  const int64_t step = block_rows(opts, r.rows(), r.cols());
  std::vector<float> block(static_cast<size_t>(std::min(step, r.rows()) * r.cols()));
  for (int64_t begin = 0; begin < r.rows(); begin += step) {
    const int64_t count = std::min(step, r.rows() - begin);
    r.read_rows_as_float(count, block.data());
    w.write_rows(split, count, block.data());
  }
}

}  // namespace

StoreInfo import_fashion_mnist(const std::string& dir, const OutputOptions& out) {
  const std::string train_images = find_idx(dir, "train-images-idx3-ubyte");
  const std::string train_labels = find_idx(dir, "train-labels-idx1-ubyte");
  const std::string test_images = find_idx(dir, "t10k-images-idx3-ubyte");
  const std::string test_labels = find_idx(dir, "t10k-labels-idx1-ubyte");
  check_output_path(out.path, out.force);

  // The two splits decompress independently: overlap them.
  auto test_future = std::async(std::launch::async, [&] { return read_idx_split(test_images, test_labels); });
  IdxSplit train;
  try {
    train = read_idx_split(train_images, train_labels);
  } catch (...) {
    test_future.wait();
    throw;
  }
  IdxSplit test = test_future.get();
  check_interrupted();

  StoreWriter w(out.path, out.force, out.write);
  write_idx_split(w, Split::Train, train, out.write);
  write_idx_split(w, Split::Test, test, out.write);
  w.set_image_shape({1, 28, 28});
  w.set_class_names(kFashionClasses);
  w.set_source("fashion-mnist (" + dir + ")");
  w.set_created_by(kCreatedBy);
  w.commit();
  return FeatureStore::open(out.path).info();
}

StoreInfo import_npy(const NpyImport& req, const OutputOptions& out) {
  // Everything that can be checked without reading the values is checked before writing starts.
  NpyReader features(req.features);
  check_feature_array(features);
  std::optional<NpyReader> test;
  if (req.test_features) {
    test.emplace(*req.test_features);
    check_feature_array(*test);
    SUBSET_CHECK(test->cols() == features.cols(), *req.test_features,
                 "test features have " << test->cols() << " values per row but the training features have "
                                       << features.cols());
  }
  SUBSET_CHECK(!req.test_labels || req.test_features, *req.test_labels,
               "test labels given without --test-features");
  std::vector<int64_t> labels, test_labels;
  const int64_t bound = std::max(features.rows(), static_cast<int64_t>(req.class_names.size()));
  if (req.labels) {
    labels = NpyReader(*req.labels).read_all_as_int64();
    check_labels(labels, features.rows(), bound, *req.labels, "labels");
  }
  if (req.test_labels) {
    test_labels = NpyReader(*req.test_labels).read_all_as_int64();
    check_labels(test_labels, test->rows(), bound, *req.test_labels, "test labels");
  }
  std::vector<int64_t> image_shape = req.image_shape.empty() ? infer_image_shape(features.header()) : req.image_shape;
  if (!image_shape.empty()) {
    int64_t product = 1;
    for (int64_t v : image_shape) product *= v;
    SUBSET_CHECK_PARAM(image_shape.size() == 3 && product == features.cols(), "image-shape",
                 "image shape must be C,H,W with C*H*W = " << features.cols());
  }
  if (!req.class_names.empty()) {
    SUBSET_CHECK_PARAM(req.labels, "class-names", "class names given without --labels");
    for (size_t i = 0; i < req.class_names.size(); ++i) {
      SUBSET_CHECK_PARAM(!req.class_names[i].empty(), "class-names", "class name " << i << " is empty");
      SUBSET_CHECK_PARAM(std::find(req.class_names.begin(), req.class_names.begin() + static_cast<std::ptrdiff_t>(i),
                             req.class_names[i]) == req.class_names.begin() + static_cast<std::ptrdiff_t>(i), "class-names", "class name '" << req.class_names[i] << "' is given twice");
    }
    for (const auto* ls : {&labels, &test_labels})
      for (int64_t l : *ls)
        SUBSET_CHECK_PARAM(l < static_cast<int64_t>(req.class_names.size()), "class-names",
                     "label " << l << " has no class name (" << req.class_names.size() << " names given)");
  }

  StoreWriter w(out.path, out.force, out.write);
  stream_npy(w, Split::Train, features, out.write);
  if (req.labels) w.write_labels(Split::Train, labels);
  if (test) {
    stream_npy(w, Split::Test, *test, out.write);
    if (req.test_labels) w.write_labels(Split::Test, test_labels);
  }
  w.set_image_shape(image_shape);
  w.set_class_names(req.class_names);
  w.set_source("npy (" + req.features + ")");
  w.set_created_by(kCreatedBy);
  w.commit();
  return FeatureStore::open(out.path).info();
}

StoreInfo import_csv(const CsvImport& req, const OutputOptions& out) {
  check_output_path(out.path, out.force);
  CsvData train = read_csv(req.path, req.label_column, req.delimiter);
  std::optional<CsvData> test;
  if (req.test_path) {
    test = read_csv(*req.test_path, req.label_column, req.delimiter);
    SUBSET_CHECK(test->feature_names == train.feature_names, *req.test_path,
                 "test CSV columns differ from the training CSV's");
    // Text labels are numbered per file; renumber the test split with the training names.
    if (!train.class_names.empty() || !test->class_names.empty()) {
      SUBSET_CHECK(!train.class_names.empty() && !test->class_names.empty(), *req.test_path,
                   "one CSV has text labels and the other integers");
      for (auto& l : *test->labels) {
        const std::string& name = test->class_names[l];
        const auto it = std::find(train.class_names.begin(), train.class_names.end(), name);
        SUBSET_CHECK(it != train.class_names.end(), *req.test_path,
                     "label '" << name << "' does not occur in the training CSV");
        l = it - train.class_names.begin();
      }
    }
  }
  const int64_t cols = static_cast<int64_t>(train.feature_names.size());
  StoreWriter w(out.path, out.force, out.write);
  w.set_origin(Split::Train, req.path);
  w.begin_features(Split::Train, train.rows, cols);
  w.write_rows(Split::Train, train.rows, train.features.data());
  if (train.labels) w.write_labels(Split::Train, *train.labels);
  if (test) {
    w.set_origin(Split::Test, *req.test_path);
    w.begin_features(Split::Test, test->rows, cols);
    w.write_rows(Split::Test, test->rows, test->features.data());
    if (test->labels) w.write_labels(Split::Test, *test->labels);
  }
  w.set_class_names(train.class_names);
  w.set_source("csv (" + req.path + ")");
  w.set_created_by(kCreatedBy);
  w.set_root_attribute("feature_names", nlohmann::json(train.feature_names).dump());
  w.commit();
  return FeatureStore::open(out.path).info();
}

}  // namespace subset::io
