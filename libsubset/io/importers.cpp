#include "libsubset/io/importers.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <future>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/matrix.h"
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

// ---- what happens to rows between reading and writing: scale, layout, held-out split ----

// The root attribute "import" (JSON, docs/format.md): what the import did to the values.
nlohmann::json import_record(const std::optional<std::string>& layout, bool layout_assumed,
                             const std::optional<std::string>& scale, const std::optional<TestSplit>& split,
                             int64_t held_out) {
  nlohmann::json j;
  j["layout"] = layout ? nlohmann::json(*layout) : nlohmann::json(nullptr);
  j["layout_assumed"] = layout_assumed;
  j["scale"] = scale ? nlohmann::json(*scale) : nlohmann::json(nullptr);
  if (split)
    j["test_split"] = {{"fraction", split->fraction}, {"seed", split->seed}, {"rows", held_out},
                       {"stratified_by", "label"}};
  else
    j["test_split"] = nullptr;
  return j;
}

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::string split_summary(const TestSplit& split, int64_t held_out, int64_t rows) {
  std::ostringstream os;
  os << "test split: " << held_out << " of " << rows << " rows held out (fraction " << split.fraction
     << ", stratified by label, seed " << split.seed << ")";
  return os.str();
}

// Multiplies n values by the scale, in place; `first_row`/`cols` name a value that overflows.
void scale_values(float* v, int64_t n, int64_t cols, int64_t first_row, const Scale& scale, const std::string& origin,
                  const char* row_word) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = v[i];
    const float y = scale.apply(x);
    SUBSET_CHECK(std::isfinite(y) || !std::isfinite(x), origin,
                 "value " << x << " at " << row_word << " " << first_row + i / cols << ", column " << i % cols
                          << " times the scale " << scale.text << " is out of float32 range");
    v[i] = y;
  }
}

struct RowTransform {
  const Scale* scale = nullptr;
  bool nhwc = false;  // rows are H x W x C: transposed to C x H x W
  int64_t h = 0, w = 0, c = 0;
};

// Row r of `in` (H*W*C values, channels last) to row r of `out` (C*H*W, channels first).
void nhwc_to_chw(const float* in, float* out, int64_t rows, int64_t h, int64_t w, int64_t c) {
  const int64_t plane = h * w, cols = plane * c;
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = in + r * cols;
    float* dst = out + r * cols;
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t ch = 0; ch < c; ++ch) dst[ch * plane + p] = src[p * c + ch];
  }
}

// Streams `r` block by block: scale, transpose, then into `split`, or, with `held_out` (one flag
// per row of r), each row into the training or the test split, in row order.
void stream_npy(StoreWriter& w, Split split, NpyReader& r, const WriteOptions& opts, const RowTransform& t,
                const std::vector<char>* held_out) {
  const int64_t cols = r.cols();
  const int64_t step = block_rows(opts, r.rows(), cols);
  const size_t block_size = static_cast<size_t>(std::min(step, r.rows()) * cols);
  std::vector<float> block(block_size), scratch(t.nhwc ? block_size : 0), test_part(held_out ? block_size : 0);
  for (int64_t begin = 0; begin < r.rows(); begin += step) {
    const int64_t count = std::min(step, r.rows() - begin);
    r.read_rows_as_float(count, block.data());
    if (t.scale) scale_values(block.data(), count * cols, cols, begin, *t.scale, r.path(), "row");
    if (t.nhwc) {
      nhwc_to_chw(block.data(), scratch.data(), count, t.h, t.w, t.c);
      block.swap(scratch);
    }
    if (!held_out) {
      w.write_rows(split, count, block.data());
      continue;
    }
    // Rows change their number when split: name a bad value by its row in the file.
    const int64_t bad = find_non_finite(block.data(), static_cast<size_t>(count * cols));
    SUBSET_CHECK(bad < 0, r.path(), "NaN or Inf in features at row " << begin + bad / cols << ", column " << bad % cols);
    int64_t kept = 0, moved = 0;
    for (int64_t i = 0; i < count; ++i) {
      const float* row = block.data() + i * cols;
      if ((*held_out)[static_cast<size_t>(begin + i)]) {
        std::memcpy(test_part.data() + moved++ * cols, row, static_cast<size_t>(cols) * sizeof(float));
      } else {
        if (kept != i) std::memmove(block.data() + kept * cols, row, static_cast<size_t>(cols) * sizeof(float));
        ++kept;
      }
    }
    w.write_rows(Split::Train, kept, block.data());
    w.write_rows(Split::Test, moved, test_part.data());
  }
}

// Labels split by the held-out flags.
void split_labels(const std::vector<int64_t>& labels, const std::vector<char>& held_out, std::vector<int64_t>& train,
                  std::vector<int64_t>& test) {
  train.clear();
  test.clear();
  for (size_t i = 0; i < labels.size(); ++i) (held_out[i] ? test : train).push_back(labels[i]);
}

std::vector<char> held_out_flags(int64_t rows, const std::vector<int64_t>& test_rows) {
  std::vector<char> flags(static_cast<size_t>(rows), 0);
  for (int64_t r : test_rows) flags[static_cast<size_t>(r)] = 1;
  return flags;
}

// ---- .npy ----

void check_feature_array(const NpyReader& r) {
  SUBSET_CHECK(r.header().shape.size() >= 2, r.path(),
               "features must be at least 2-D [N, D], found shape of rank " << r.header().shape.size());
  SUBSET_CHECK(r.rows() > 0, r.path(), "features have no rows");
  SUBSET_CHECK(r.cols() > 0, r.path(), "features have zero columns");
}

struct LayoutPlan {
  RowTransform transform;
  std::vector<int64_t> image_shape;      // [C, H, W] as stored; empty when not images
  std::optional<std::string> recorded;  // "NCHW" / "NHWC" for the import record
  bool assumed = false;
  std::string note;
};

// How the rows of `r` are laid out: [N, H, W] is one channel; [N, a, b, c] is NCHW, NHWC (with
// --layout) or refused as ambiguous when its last axis looks like a channel count.
LayoutPlan plan_layout(const NpyReader& r, const std::optional<ImageLayout>& layout) {
  const auto& shape = r.header().shape;
  LayoutPlan p;
  if (shape.size() != 4) {
    SUBSET_CHECK_PARAM(!layout, "layout", r.path() << " has shape " << describe_shape(shape)
                                                   << ": a layout applies to 4-D image arrays only");
    if (shape.size() == 3) p.image_shape = {1, shape[1], shape[2]};
    return p;
  }
  const auto channels = [](int64_t d) { return d == 1 || d == 3; };
  const std::string text = describe_shape(shape);
  if (!layout) {
    if (channels(shape[3]) && !channels(shape[1]))
      throw ParamError("layout", r.path() + " has shape " + text +
                                     ", which looks like NHWC (channels last): pass --layout nhwc to transpose each "
                                     "image to the store's C,H,W order, or --layout nchw if the channels come first");
    if (channels(shape[3]))
      throw ParamError("layout", r.path() + " has shape " + text +
                                     ", which could be NCHW or NHWC: pass --layout nchw (channels first) or --layout "
                                     "nhwc (channels last)");
    p.image_shape = {shape[1], shape[2], shape[3]};
    p.recorded = "NCHW";
    p.assumed = true;
    p.note = "layout NCHW (channels first) assumed for shape " + text + "; pass --layout nhwc if channels are last";
    return p;
  }
  if (*layout == ImageLayout::NCHW) {
    p.image_shape = {shape[1], shape[2], shape[3]};
    p.recorded = "NCHW";
    p.note = "layout NCHW (channels first), as given";
    return p;
  }
  p.transform.nhwc = true;
  p.transform.h = shape[1];
  p.transform.w = shape[2];
  p.transform.c = shape[3];
  p.image_shape = {shape[3], shape[1], shape[2]};
  p.recorded = "NHWC";
  p.note = "layout NHWC (channels last): images transposed to C,H,W = " + std::to_string(shape[3]) + "x" +
           std::to_string(shape[1]) + "x" + std::to_string(shape[2]);
  return p;
}

}  // namespace

ImportReport import_fashion_mnist(const std::string& dir, const OutputOptions& out) {
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
  // Pixels are divided by 255 as they are read: the import is scaled already.
  w.set_root_attribute("import", import_record(std::nullopt, false, "1/255", std::nullopt, 0).dump());
  w.commit();
  return {FeatureStore::open(out.path).info(), {"values pixel / 255, in [0, 1]"}};
}

ImportReport import_npy(const NpyImport& req, const OutputOptions& out) {
  // Everything that can be checked without reading the values is checked before writing starts.
  NpyReader features(req.features);
  check_feature_array(features);
  const LayoutPlan layout = plan_layout(features, req.layout);
  std::optional<NpyReader> test;
  if (req.test_features) {
    test.emplace(*req.test_features);
    check_feature_array(*test);
    SUBSET_CHECK(test->cols() == features.cols(), *req.test_features,
                 "test features have " << test->cols() << " values per row but the training features have "
                                       << features.cols());
    if (layout.transform.nhwc)
      SUBSET_CHECK(test->header().shape == std::vector<int64_t>({test->rows(), layout.transform.h, layout.transform.w,
                                                                 layout.transform.c}),
                   *req.test_features,
                   "test features of shape " << describe_shape(test->header().shape)
                                             << " are not NHWC images like the training features "
                                             << describe_shape(features.header().shape));
  }
  SUBSET_CHECK(!req.test_labels || req.test_features, *req.test_labels,
               "test labels given without --test-features");
  if (req.test_split) {
    SUBSET_CHECK_PARAM(req.labels, "test-fraction", "a stratified test split needs labels: pass --labels");
    SUBSET_CHECK_PARAM(!req.test_features, "test-fraction",
                       "a held-out split is given already (--test-features): pass one or the other");
  }
  std::vector<int64_t> labels, test_labels;
  if (req.labels) labels = NpyReader(*req.labels).read_all_as_int64();
  // The held-out rows, drawn before the labels are checked against the bound (the training rows that
  // remain, or the class names).
  std::vector<int64_t> held_rows;
  if (req.test_split) {
    SUBSET_CHECK(static_cast<int64_t>(labels.size()) == features.rows(), *req.labels,
                 "labels have " << labels.size() << " entries but the features have " << features.rows() << " rows");
    for (size_t i = 0; i < labels.size(); ++i)
      SUBSET_CHECK(labels[i] >= 0, *req.labels, "negative label " << labels[i] << " at row " << i);
    held_rows = stratified_test_rows(labels, *req.test_split);
  }
  const int64_t held = static_cast<int64_t>(held_rows.size());
  const int64_t bound = std::max(features.rows() - held, static_cast<int64_t>(req.class_names.size()));
  if (req.labels) check_labels(labels, features.rows(), bound, *req.labels, "labels");
  if (req.test_labels) {
    test_labels = NpyReader(*req.test_labels).read_all_as_int64();
    check_labels(test_labels, test->rows(), bound, *req.test_labels, "test labels");
  }
  std::vector<int64_t> image_shape = layout.image_shape;
  if (!req.image_shape.empty()) {
    SUBSET_CHECK_PARAM(!layout.transform.nhwc || req.image_shape == layout.image_shape, "image-shape",
                       "NHWC images of shape " << describe_shape(features.header().shape)
                                               << " are stored as C,H,W = " << layout.image_shape[0] << ","
                                               << layout.image_shape[1] << "," << layout.image_shape[2]);
    image_shape = req.image_shape;
  }
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

  ImportReport report;
  if (!layout.note.empty()) report.notes.push_back(layout.note);
  RowTransform transform = layout.transform;
  std::string source = "npy (" + req.features + ")";
  if (layout.transform.nhwc) source += ", NHWC transposed to C,H,W";
  if (req.scale) {
    transform.scale = &*req.scale;
    report.notes.push_back("values multiplied by " + req.scale->text);
    source += ", values multiplied by " + req.scale->text;
  } else if (features.header().kind == NpyKind::UnsignedInt && features.header().item_size == 1) {
    report.notes.push_back("values 0..255 (uint8); add --scale 1/255 for [0, 1]");
  }

  StoreWriter w(out.path, out.force, out.write);
  w.set_origin(Split::Train, req.features);
  w.begin_features(Split::Train, features.rows() - held, features.cols());
  if (held > 0) {
    const std::vector<char> flags = held_out_flags(features.rows(), held_rows);
    w.set_origin(Split::Test, req.features);
    w.begin_features(Split::Test, held, features.cols());
    stream_npy(w, Split::Train, features, out.write, transform, &flags);
    std::vector<int64_t> train_part, test_part;
    split_labels(labels, flags, train_part, test_part);
    w.write_labels(Split::Train, train_part);
    w.write_labels(Split::Test, test_part);
    report.notes.push_back(split_summary(*req.test_split, held, features.rows()));
    std::ostringstream os;
    os << ", test split " << req.test_split->fraction << " stratified (seed " << req.test_split->seed << ")";
    source += os.str();
  } else {
    stream_npy(w, Split::Train, features, out.write, transform, nullptr);
    if (req.labels) w.write_labels(Split::Train, labels);
  }
  if (test) {
    w.set_origin(Split::Test, test->path());
    w.begin_features(Split::Test, test->rows(), test->cols());
    stream_npy(w, Split::Test, *test, out.write, transform, nullptr);
    if (req.test_labels) w.write_labels(Split::Test, test_labels);
  }
  w.set_image_shape(image_shape);
  w.set_class_names(req.class_names);
  w.set_source(source);
  w.set_created_by(kCreatedBy);
  w.set_root_attribute("import", import_record(layout.recorded, layout.assumed,
                                               req.scale ? std::optional<std::string>(req.scale->text) : std::nullopt,
                                               req.test_split, held)
                                     .dump());
  w.commit();
  report.info = FeatureStore::open(out.path).info();
  return report;
}

ImportReport import_csv(const CsvImport& req, const OutputOptions& out) {
  if (req.test_split) {
    SUBSET_CHECK_PARAM(req.label_column, "test-fraction", "a stratified test split needs labels: pass --label-column");
    SUBSET_CHECK_PARAM(!req.test_path, "test-fraction",
                       "a held-out split is given already (--test-features): pass one or the other");
  }
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
  ImportReport report;
  std::string source = "csv (" + req.path + ")";
  if (req.scale) {
    scale_values(train.features.data(), train.rows * cols, cols, 0, *req.scale, req.path, "data row");
    if (test) scale_values(test->features.data(), test->rows * cols, cols, 0, *req.scale, *req.test_path, "data row");
    report.notes.push_back("values multiplied by " + req.scale->text);
    source += ", values multiplied by " + req.scale->text;
  }
  std::vector<int64_t> held_rows;
  if (req.test_split) held_rows = stratified_test_rows(*train.labels, *req.test_split);
  const int64_t held = static_cast<int64_t>(held_rows.size());

  StoreWriter w(out.path, out.force, out.write);
  w.set_origin(Split::Train, req.path);
  if (held > 0) {
    const std::vector<char> flags = held_out_flags(train.rows, held_rows);
    std::vector<float> train_rows, test_rows;
    train_rows.reserve(static_cast<size_t>((train.rows - held) * cols));
    test_rows.reserve(static_cast<size_t>(held * cols));
    for (int64_t r = 0; r < train.rows; ++r) {
      auto& dst = flags[static_cast<size_t>(r)] ? test_rows : train_rows;
      dst.insert(dst.end(), train.features.begin() + r * cols, train.features.begin() + (r + 1) * cols);
    }
    std::vector<int64_t> train_labels, test_labels;
    split_labels(*train.labels, flags, train_labels, test_labels);
    w.begin_features(Split::Train, train.rows - held, cols);
    w.write_rows(Split::Train, train.rows - held, train_rows.data());
    w.write_labels(Split::Train, train_labels);
    w.set_origin(Split::Test, req.path);
    w.begin_features(Split::Test, held, cols);
    w.write_rows(Split::Test, held, test_rows.data());
    w.write_labels(Split::Test, test_labels);
    report.notes.push_back(split_summary(*req.test_split, held, train.rows));
    std::ostringstream os;
    os << ", test split " << req.test_split->fraction << " stratified (seed " << req.test_split->seed << ")";
    source += os.str();
  } else {
    w.begin_features(Split::Train, train.rows, cols);
    w.write_rows(Split::Train, train.rows, train.features.data());
    if (train.labels) w.write_labels(Split::Train, *train.labels);
  }
  if (test) {
    w.set_origin(Split::Test, *req.test_path);
    w.begin_features(Split::Test, test->rows, cols);
    w.write_rows(Split::Test, test->rows, test->features.data());
    if (test->labels) w.write_labels(Split::Test, *test->labels);
  }
  w.set_class_names(train.class_names);
  w.set_source(source);
  w.set_created_by(kCreatedBy);
  w.set_root_attribute("feature_names", nlohmann::json(train.feature_names).dump());
  w.set_root_attribute("import", import_record(std::nullopt, false,
                                               req.scale ? std::optional<std::string>(req.scale->text) : std::nullopt,
                                               req.test_split, held)
                                     .dump());
  w.commit();
  report.info = FeatureStore::open(out.path).info();
  return report;
}

nlohmann::json ImportReport::to_json() const {
  nlohmann::json j = info.to_json();
  j["notes"] = notes;
  return j;
}

}  // namespace subset::io
