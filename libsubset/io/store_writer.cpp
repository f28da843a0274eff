#include "libsubset/io/store_writer.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>

#include "libsubset/core/error.h"
#include "libsubset/core/params.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/matrix.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/internal/hdf5.h"

namespace subset::io {

int64_t default_chunk_rows(int64_t rows, int64_t cols) {
  constexpr int64_t kTargetBytes = int64_t{1} << 20;
  const int64_t row_bytes = std::max<int64_t>(1, cols) * static_cast<int64_t>(sizeof(float));
  return std::clamp<int64_t>(kTargetBytes / row_bytes, 1, std::max<int64_t>(1, rows));
}

namespace {
struct SplitState {
  h5::Handle features;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t written = 0;
  std::optional<std::vector<int64_t>> labels;
  std::string origin;
  unsigned long crc = 0;  // running CRC-32 of the rows' bytes, stored as the "checksum" attribute
};
const char* split_name(Split s) { return s == Split::Train ? "features" : "test features"; }

// A scalar float64 root attribute (the recorded value range).
void write_double_attr(hid_t obj, const char* name, double value, const std::string& where) {
  h5::Handle space = h5::space_handle(H5Screate(H5S_SCALAR));
  h5::Handle attr = h5::attr_handle(H5Acreate2(obj, name, H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT));
  SUBSET_CHECK(attr && H5Awrite(attr.id(), H5T_NATIVE_DOUBLE, &value) >= 0, where, "cannot write attribute " << name);
}
}  // namespace

struct StoreWriter::Impl {
  AtomicOutput output;
  WriteOptions options;
  h5::Handle file;
  std::array<SplitState, 2> splits;
  std::vector<int64_t> image_shape;
  std::vector<float> weights;
  std::vector<std::string> class_names;
  std::string source;
  std::string created_by = std::string("libsubset ") + kVersion;
  std::vector<std::pair<std::string, std::string>> extra_attrs;
  std::vector<std::pair<std::string, std::vector<int64_t>>> row_values;
  // The smallest and largest feature value written (both splits), kept as rows stream through.
  float value_min = std::numeric_limits<float>::infinity();
  float value_max = -std::numeric_limits<float>::infinity();

  Impl(const std::string& path, bool force, WriteOptions opts) : output(path, force), options(opts) {}
  SplitState& state(Split s) { return splits[s == Split::Train ? 0 : 1]; }
  std::string where() const { return output.final_path(); }
};

StoreWriter::StoreWriter(const std::string& path, bool force, WriteOptions options) {
  SUBSET_CHECK_PARAM(options.gzip_level >= 0 && options.gzip_level <= 9, "compression",
               "gzip level must be in 0..9, got " << options.gzip_level);
  SUBSET_CHECK_PARAM(options.chunk_rows >= 0, "chunk-rows", "chunk rows must be >= 0, got " << options.chunk_rows);
  h5::silence_library_errors();
  impl_ = std::make_unique<Impl>(path, force, options);
  hid_t fid = H5Fcreate(impl_->output.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  SUBSET_CHECK(fid >= 0, path, "cannot create HDF5 file");
  impl_->file = h5::file_handle(fid);
}

StoreWriter::~StoreWriter() = default;  // Impl's AtomicOutput removes an uncommitted file

const std::string& StoreWriter::path() const { return impl_->output.final_path(); }

void StoreWriter::begin_features(Split split, int64_t rows, int64_t cols) {
  SplitState& st = impl_->state(split);
  SUBSET_CHECK(!st.features, impl_->where(), split_name(split) << " declared twice");
  SUBSET_CHECK(rows > 0, impl_->where(), split_name(split) << " must have at least one row");
  SUBSET_CHECK(cols > 0, impl_->where(), split_name(split) << " must have at least one column");
  if (split == Split::Test) {
    const SplitState& train = impl_->state(Split::Train);
    SUBSET_CHECK(train.features, impl_->where(), "test features declared before the training features");
    SUBSET_CHECK(cols == train.cols, impl_->where(),
                 "test features have " << cols << " columns but the training features have " << train.cols);
    h5::Handle g = h5::group_handle(H5Gcreate2(impl_->file.id(), "/test", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    SUBSET_CHECK(g, impl_->where(), "cannot create /test group");
  }
  const int64_t chunk = impl_->options.chunk_rows > 0 ? std::min(impl_->options.chunk_rows, rows)
                                                      : default_chunk_rows(rows, cols);
  const hsize_t dims[2] = {static_cast<hsize_t>(rows), static_cast<hsize_t>(cols)};
  const hsize_t chunk_dims[2] = {static_cast<hsize_t>(chunk), static_cast<hsize_t>(cols)};
  h5::Handle space = h5::space_handle(H5Screate_simple(2, dims, nullptr));
  h5::Handle dcpl = h5::plist_handle(H5Pcreate(H5P_DATASET_CREATE));
  H5Pset_chunk(dcpl.id(), 2, chunk_dims);
  H5Pset_fill_time(dcpl.id(), H5D_FILL_TIME_NEVER);  // every element is written: skip the fill pass
  if (impl_->options.gzip_level > 0) {
    H5Pset_shuffle(dcpl.id());
    H5Pset_deflate(dcpl.id(), static_cast<unsigned>(impl_->options.gzip_level));
  }
  // Whole chunks are written at once: no cache, no extra copy.
  h5::Handle dapl = h5::plist_handle(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(dapl.id(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  st.features = h5::dataset_handle(H5Dcreate2(impl_->file.id(), features_dataset(split), H5T_IEEE_F32LE,
                                              space.id(), H5P_DEFAULT, dcpl.id(), dapl.id()));
  SUBSET_CHECK(st.features, impl_->where(), "cannot create " << features_dataset(split));
  st.rows = rows;
  st.cols = cols;
}

void StoreWriter::write_rows(Split split, int64_t count, const float* data) {
  SplitState& st = impl_->state(split);
  SUBSET_CHECK(st.features, impl_->where(), split_name(split) << " written before being declared");
  SUBSET_CHECK(count >= 0 && st.written + count <= st.rows, impl_->where(),
               "too many rows for " << split_name(split) << ": " << st.written + count << " > " << st.rows);
  check_interrupted();
  if (count == 0) return;
  const int64_t bad = find_non_finite(data, static_cast<size_t>(count * st.cols));
  SUBSET_CHECK(bad < 0, st.origin.empty() ? impl_->where() : st.origin,
               "NaN or Inf in " << split_name(split) << " at row " << st.written + bad / st.cols << ", column "
                                << bad % st.cols);
  // Every value is finite here, so plain comparisons suffice (and vectorise).
  float lo = impl_->value_min, hi = impl_->value_max;
  for (int64_t i = 0, n = count * st.cols; i < n; ++i) {
    lo = data[i] < lo ? data[i] : lo;
    hi = data[i] > hi ? data[i] : hi;
  }
  const hsize_t start[2] = {static_cast<hsize_t>(st.written), 0};
  const hsize_t dims[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(st.cols)};
  h5::Handle file_space = h5::space_handle(H5Dget_space(st.features.id()));
  h5::Handle mem_space = h5::space_handle(H5Screate_simple(2, dims, nullptr));
  H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, dims, nullptr);
  SUBSET_CHECK(H5Dwrite(st.features.id(), H5T_NATIVE_FLOAT, mem_space.id(), file_space.id(), H5P_DEFAULT, data) >= 0,
               impl_->where(), "cannot write " << split_name(split) << " (disk full?)");
  st.crc = crc32_z(st.crc, reinterpret_cast<const unsigned char*>(data), static_cast<size_t>(count * st.cols) * 4);
  st.written += count;
  impl_->value_min = lo;
  impl_->value_max = hi;
}

void StoreWriter::write_labels(Split split, const std::vector<int64_t>& labels) {
  SplitState& st = impl_->state(split);
  const char* name = split == Split::Train ? "labels" : "test labels";
  SUBSET_CHECK(st.features, impl_->where(), name << " given without " << split_name(split));
  SUBSET_CHECK(static_cast<int64_t>(labels.size()) == st.rows, impl_->where(),
               name << " have " << labels.size() << " entries but the " << split_name(split) << " have " << st.rows
                    << " rows");
  for (size_t i = 0; i < labels.size(); ++i)
    SUBSET_CHECK(labels[i] >= 0, st.origin.empty() ? impl_->where() : st.origin,
                 "negative label " << labels[i] << " at row " << i << " of " << name);
  st.labels = labels;
}

void StoreWriter::write_weights(const std::vector<float>& weights) {
  const SplitState& st = impl_->state(Split::Train);
  SUBSET_CHECK(st.features, impl_->where(), "weights given before the features");
  SUBSET_CHECK(static_cast<int64_t>(weights.size()) == st.rows, impl_->where(),
               "weights have " << weights.size() << " entries but the features have " << st.rows << " rows");
  for (size_t i = 0; i < weights.size(); ++i)
    SUBSET_CHECK(std::isfinite(weights[i]) && weights[i] >= 0, impl_->where(),
                 "weight " << weights[i] << " at row " << i << " is not a finite number >= 0");
  impl_->weights = weights;
}

void StoreWriter::write_row_values(const std::string& dataset, const std::vector<int64_t>& values) {
  const SplitState& st = impl_->state(Split::Train);
  SUBSET_CHECK(st.features && static_cast<int64_t>(values.size()) == st.rows, impl_->where(),
               dataset << " has " << values.size() << " entries but the features have " << st.rows << " rows");
  impl_->row_values.emplace_back(dataset, values);
}

void StoreWriter::set_origin(Split split, const std::string& origin) { impl_->state(split).origin = origin; }
void StoreWriter::set_image_shape(const std::vector<int64_t>& chw) { impl_->image_shape = chw; }
void StoreWriter::set_class_names(const std::vector<std::string>& names) { impl_->class_names = names; }
void StoreWriter::set_source(const std::string& source) { impl_->source = source; }
void StoreWriter::set_created_by(const std::string& created_by) { impl_->created_by = created_by; }
void StoreWriter::set_root_attribute(const std::string& name, const std::string& value) {
  impl_->extra_attrs.emplace_back(name, value);
}

void StoreWriter::commit() {
  Impl& im = *impl_;
  const std::string& where = im.where();
  const SplitState& train = im.state(Split::Train);
  SUBSET_CHECK(train.features, where, "no features were written");
  for (Split s : {Split::Train, Split::Test}) {
    const SplitState& st = im.state(s);
    if (!st.features) continue;
    SUBSET_CHECK(st.written == st.rows, where,
                 split_name(s) << ": " << st.written << " of " << st.rows << " rows were written");
    h5::write_string_attr(st.features.id(), "checksum", format_checksum(st.crc));
  }
  if (!im.image_shape.empty()) {
    int64_t product = 1;
    for (int64_t v : im.image_shape) product *= v;
    SUBSET_CHECK(im.image_shape.size() == 3 && product == train.cols, where,
                 "image shape must be [C, H, W] with C*H*W = " << train.cols);
    h5::write_int_array_attr(train.features.id(), "image_shape", im.image_shape);
  }
  // Labels are class ids below max(training rows, class names), the bound FeatureStore::open
  // enforces: a store this writer commits always opens.
  const int64_t label_bound = std::max(train.rows, static_cast<int64_t>(im.class_names.size()));
  for (Split s : {Split::Train, Split::Test}) {
    const SplitState& st = im.state(s);
    if (!st.labels) continue;
    for (size_t i = 0; i < st.labels->size(); ++i)
      SUBSET_CHECK((*st.labels)[i] < label_bound, st.origin.empty() ? where : st.origin,
                   "label " << (*st.labels)[i] << " at row " << i << " of " << labels_dataset(s)
                            << " is not a class id: labels must be below " << label_bound
                            << " (the number of training rows or of class names, whichever is larger)");
    if (!im.class_names.empty()) {
      const int64_t largest = *std::max_element(st.labels->begin(), st.labels->end());
      SUBSET_CHECK(largest < static_cast<int64_t>(im.class_names.size()), where,
                   "label " << largest << " is out of range for " << im.class_names.size() << " class names");
    }
    const hsize_t n = st.labels->size();
    h5::Handle space = h5::space_handle(H5Screate_simple(1, &n, nullptr));
    h5::Handle ds = h5::dataset_handle(H5Dcreate2(im.file.id(), labels_dataset(s), H5T_STD_I64LE, space.id(),
                                                  H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    SUBSET_CHECK(ds && H5Dwrite(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, st.labels->data()) >= 0,
                 where, "cannot write " << labels_dataset(s));
    if (s == Split::Train && !im.class_names.empty()) h5::write_string_array_attr(ds.id(), "class_names", im.class_names);
  }
  if (!im.weights.empty()) {
    const hsize_t n = im.weights.size();
    h5::Handle space = h5::space_handle(H5Screate_simple(1, &n, nullptr));
    h5::Handle ds = h5::dataset_handle(H5Dcreate2(im.file.id(), "/weights", H5T_IEEE_F32LE, space.id(), H5P_DEFAULT,
                                                  H5P_DEFAULT, H5P_DEFAULT));
    SUBSET_CHECK(ds && H5Dwrite(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, im.weights.data()) >= 0,
                 where, "cannot write /weights");
  }
  for (const auto& [name, values] : im.row_values) {
    const hsize_t n = values.size();
    h5::Handle space = h5::space_handle(H5Screate_simple(1, &n, nullptr));
    h5::Handle ds = h5::dataset_handle(
        H5Dcreate2(im.file.id(), name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    SUBSET_CHECK(ds && H5Dwrite(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0, where,
                 "cannot write " << name);
  }
  const hid_t root = im.file.id();
  h5::write_string_attr(root, "format", kFormatName);
  h5::write_int_attr(root, "format_version", kFormatVersion);
  h5::write_string_attr(root, "source", im.source);
  h5::write_string_attr(root, "created_by", im.created_by);
  // commit() has checked that every declared row was written, and a split has at least one row.
  write_double_attr(root, "value_min", im.value_min, where);
  write_double_attr(root, "value_max", im.value_max, where);
  for (const auto& [name, value] : im.extra_attrs) h5::write_string_attr(root, name, value);
  if (im.options.energy_report) h5::write_string_attr(root, "energy", im.options.energy_report());

  for (auto& st : im.splits) st.features.reset();
  SUBSET_CHECK(im.file.close(), where, "cannot finish writing the HDF5 file (disk full?)");
  im.output.commit();
}

}  // namespace subset::io
