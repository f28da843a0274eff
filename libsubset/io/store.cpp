#include "libsubset/io/store.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/input_file.h"
#include "libsubset/io/internal/hdf5.h"

namespace subset::io {

const char* features_dataset(Split split) { return split == Split::Train ? "/features" : "/test/features"; }
const char* labels_dataset(Split split) { return split == Split::Train ? "/labels" : "/test/labels"; }

int64_t StoreInfo::num_classes() const {
  int64_t n = static_cast<int64_t>(class_names.size());
  if (!class_counts.empty()) n = std::max(n, class_counts.rbegin()->first + 1);
  if (!test_class_counts.empty()) n = std::max(n, test_class_counts.rbegin()->first + 1);
  return n;
}

nlohmann::json StoreInfo::to_json() const {
  auto counts = [](const std::map<int64_t, int64_t>& m) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [label, count] : m) j[std::to_string(label)] = count;
    return j;
  };
  nlohmann::json j;
  j["path"] = path;
  j["file_size"] = file_size;
  j["format"] = kFormatName;
  j["format_version"] = format_version;
  j["format_declared"] = format_declared;
  j["source"] = source;
  j["created_by"] = created_by;
  j["energy"] = energy;
  j["same_rows"] = same_rows ? same_rows->to_json() : nlohmann::json(nullptr);
  j["n"] = n();
  j["dim"] = dim();
  j["dtype"] = features.dtype;
  j["image_shape"] = image_shape.empty() ? nlohmann::json(nullptr) : nlohmann::json(image_shape);
  j["chunk_rows"] = features.chunk_rows;
  j["compression"] = features.compression;
  j["storage_bytes"] = features.storage_bytes;
  j["checksum"] = features.checksum.empty() ? nlohmann::json(nullptr) : nlohmann::json(features.checksum);
  j["class_names"] = class_names;
  j["num_classes"] = num_classes();
  j["class_counts"] = has_labels ? counts(class_counts) : nlohmann::json(nullptr);
  j["has_weights"] = has_weights;
  j["test_n"] = test_n();
  j["test_class_counts"] = has_test_labels ? counts(test_class_counts) : nlohmann::json(nullptr);
  j["value_min"] = value_min ? nlohmann::json(*value_min) : nlohmann::json(nullptr);
  j["value_max"] = value_max ? nlohmann::json(*value_max) : nlohmann::json(nullptr);
  return j;
}

struct FeatureStore::File {
  std::string path;
  h5::Handle handle;
};

struct FeatureArray::Impl {
  std::shared_ptr<FeatureStore::File> file;
  h5::Handle dataset;
};

namespace {

// A scalar numeric root attribute as a finite double; nullopt when absent or not one finite number.
std::optional<double> read_double_attr(hid_t obj, const char* name) {
  if (!h5::attr_exists(obj, name)) return std::nullopt;
  h5::Handle attr = h5::attr_handle(H5Aopen(obj, name, H5P_DEFAULT));
  if (!attr) return std::nullopt;
  h5::Handle type = h5::type_handle(H5Aget_type(attr.id()));
  h5::Handle space = h5::space_handle(H5Aget_space(attr.id()));
  if (!type || !space || H5Tget_class(type.id()) != H5T_FLOAT || H5Sget_simple_extent_npoints(space.id()) != 1)
    return std::nullopt;
  double v = 0;
  if (H5Aread(attr.id(), H5T_NATIVE_DOUBLE, &v) < 0 || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string describe_shape(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string describe_filters(hid_t dcpl) {
  const int n = H5Pget_nfilters(dcpl);
  if (n <= 0) return "none";
  std::string out;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0;
    size_t nvalues = 4;
    unsigned values[4] = {0, 0, 0, 0};
    char name[64] = {0};
    unsigned config = 0;
    const H5Z_filter_t f = H5Pget_filter2(dcpl, static_cast<unsigned>(i), &flags, &nvalues, values, sizeof name,
                                          name, &config);
    std::string part;
    if (f == H5Z_FILTER_DEFLATE) part = "gzip(" + std::to_string(nvalues > 0 ? values[0] : 0) + ")";
    else if (f == H5Z_FILTER_SHUFFLE) part = "shuffle";
    else if (f == H5Z_FILTER_FLETCHER32) part = "fletcher32";
    else part = name[0] ? std::string(name) : "filter " + std::to_string(f);
    out += (out.empty() ? "" : "+") + part;
  }
  return out;
}

// Virtual datasets read their missing sources as fill values (zeros) and external storage lives in
// raw files HDF5 does not check: both would be read as data without any error, so neither is
// accepted (docs/format.md).
void check_regular_layout(hid_t dataset, const std::string& at) {
  h5::Handle dcpl = h5::plist_handle(H5Dget_create_plist(dataset));
  SUBSET_CHECK(dcpl, at, "cannot read the dataset's storage layout (file corrupt?)");
  const H5D_layout_t layout = H5Pget_layout(dcpl.id());
  SUBSET_CHECK(layout != H5D_VIRTUAL, at,
               "virtual datasets are not supported (copy it into a regular dataset, e.g. with h5py or h5repack)");
  SUBSET_CHECK(H5Pget_external_count(dcpl.id()) <= 0, at,
               "datasets with external storage are not supported (copy it into a regular dataset, e.g. with h5py "
               "or h5repack)");
}

// rows * cols float32 values must be addressable: row_bytes and whole-array sizes are computed
// from these in int64 and size_t.
void check_matrix_size(int64_t rows, int64_t cols, const std::string& at) {
  int64_t values = 0, bytes = 0;
  SUBSET_CHECK(!__builtin_mul_overflow(rows, cols, &values) && !__builtin_mul_overflow(values, int64_t{4}, &bytes),
               at, "shape [" << rows << ", " << cols << "] is too large to address");
}

// Opens a dataset and checks it is a 2-D float32 array; `role` names it in messages.
ArrayInfo inspect_float_matrix(hid_t file, const std::string& dataset, const std::string& where) {
  const std::string at = where + ":" + dataset;
  SUBSET_CHECK(h5::is_dataset(file, dataset), where, "store has no " << dataset << " dataset");
  h5::Handle ds = h5::dataset_handle(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT));
  SUBSET_CHECK(ds, at, "cannot open dataset (file truncated or corrupt?)");
  check_regular_layout(ds.id(), at);
  const auto shape = h5::dataset_shape(ds.id());
  SUBSET_CHECK(shape.size() == 2, at,
               "features must be 2-D [N, D], found rank " << shape.size() << " with shape " << describe_shape(shape));
  SUBSET_CHECK(shape[0] > 0, at, "features have no rows");
  SUBSET_CHECK(shape[1] > 0, at, "features have zero columns");
  check_matrix_size(shape[0], shape[1], at);
  h5::Handle type = h5::type_handle(H5Dget_type(ds.id()));
  const H5T_class_t cls = H5Tget_class(type.id());
  const size_t size = H5Tget_size(type.id());
  if (cls != H5T_FLOAT || size != 4) {
    std::string got = cls == H5T_FLOAT ? "float" + std::to_string(size * 8)
                      : cls == H5T_INTEGER ? "integer (" + std::to_string(size * 8) + "-bit)"
                                           : "a non-numeric type";
    SUBSET_FAIL(at, "features must be float32, found " << got << " (convert with `subset import`)");
  }
  ArrayInfo info;
  info.dataset = dataset;
  info.rows = shape[0];
  info.cols = shape[1];
  info.dtype = "float32";
  h5::Handle dcpl = h5::plist_handle(H5Dget_create_plist(ds.id()));
  if (H5Pget_layout(dcpl.id()) == H5D_CHUNKED) {
    hsize_t chunk[2] = {0, 0};
    if (H5Pget_chunk(dcpl.id(), 2, chunk) == 2) info.chunk_rows = static_cast<int64_t>(chunk[0]);
  }
  info.compression = describe_filters(dcpl.id());
  info.storage_bytes = H5Dget_storage_size(ds.id());
  info.checksum = h5::read_string_attr(ds.id(), "checksum", at).value_or("");
  return info;
}

// Streams a 1-D dataset in blocks of a million values converted to `mem_type`:
// fn(first_row, values, count) for each block; memory is one block.
template <typename T, typename Fn>
void for_each_1d_block(hid_t dataset, int64_t rows, hid_t mem_type, const std::string& at, const char* what, Fn&& fn) {
  constexpr int64_t kBlock = 1 << 20;
  std::vector<T> buf;
  h5::Handle file_space = h5::space_handle(H5Dget_space(dataset));
  for (int64_t begin = 0; begin < rows; begin += kBlock) {
    const hsize_t count = static_cast<hsize_t>(std::min(kBlock, rows - begin));
    const hsize_t start = static_cast<hsize_t>(begin);
    buf.resize(count);
    h5::Handle mem = h5::space_handle(H5Screate_simple(1, &count, nullptr));
    H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, &start, nullptr, &count, nullptr);
    SUBSET_CHECK(H5Dread(dataset, mem_type, mem.id(), file_space.id(), H5P_DEFAULT, buf.data()) >= 0, at,
                 "cannot read " << what << " (file truncated or corrupt?)");
    fn(begin, buf.data(), count);
  }
}

// Streams an integer label dataset: checks length and that every label is a class id in
// [0, bound), counts classes. The bound is what keeps class counts (and every allocation sized by
// them) proportional to the data rather than to a value in the file.
std::map<int64_t, int64_t> inspect_labels(hid_t file, const std::string& dataset, int64_t expected_rows,
                                          int64_t bound, const std::string& bound_reason, const std::string& where) {
  const std::string at = where + ":" + dataset;
  SUBSET_CHECK(h5::is_dataset(file, dataset), at, "labels must be a dataset");
  h5::Handle ds = h5::dataset_handle(H5Dopen2(file, dataset.c_str(), H5P_DEFAULT));
  SUBSET_CHECK(ds, at, "cannot open dataset (file truncated or corrupt?)");
  check_regular_layout(ds.id(), at);
  const auto shape = h5::dataset_shape(ds.id());
  SUBSET_CHECK(shape.size() == 1, at, "labels must be 1-D [N], found shape " << describe_shape(shape));
  h5::Handle type = h5::type_handle(H5Dget_type(ds.id()));
  SUBSET_CHECK(H5Tget_class(type.id()) == H5T_INTEGER, at, "labels must be integers");
  SUBSET_CHECK(shape[0] == expected_rows, at,
               "labels have " << shape[0] << " entries but the features have " << expected_rows << " rows");
  // HDF5 saturates an unsigned value above INT64_MAX when converting to int64 without telling: read
  // unsigned labels as uint64 so such a value is seen and refused.
  const bool is_unsigned = H5Tget_sign(type.id()) == H5T_SGN_NONE;
  std::map<int64_t, int64_t> counts;
  for_each_1d_block<int64_t>(ds.id(), expected_rows, is_unsigned ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64, at, "labels",
                             [&](int64_t begin, const int64_t* labels, hsize_t count) {
    for (hsize_t i = 0; i < count; ++i) {
      const int64_t row = begin + static_cast<int64_t>(i);
      if (is_unsigned) {
        uint64_t u;
        std::memcpy(&u, &labels[i], sizeof u);
        SUBSET_CHECK(u <= static_cast<uint64_t>(INT64_MAX), at,
                     "label " << u << " at row " << row << " is not a class id (above the int64 range)");
      }
      SUBSET_CHECK(labels[i] >= 0, at, "negative label " << labels[i] << " at row " << row);
      SUBSET_CHECK(labels[i] < bound, at,
                   "label " << labels[i] << " at row " << row << " is not a class id: labels must be below " << bound
                            << " (" << bound_reason << ")");
      ++counts[labels[i]];
    }
  });
  return counts;
}

// What label values a store may hold: below the number of training rows or of class names,
// whichever is larger.
int64_t label_bound(int64_t train_rows, const std::vector<std::string>& names, std::string& reason) {
  const auto n_names = static_cast<int64_t>(names.size());
  if (n_names > train_rows) {
    reason = "the number of class names";
    return n_names;
  }
  reason = n_names > 0 ? "the number of training rows, no fewer than the class names"
                       : "the number of training rows, as the store has no class names";
  return train_rows;
}

void check_labels_in_range(const std::map<int64_t, int64_t>& counts, const std::vector<std::string>& names,
                           const std::string& at) {
  if (names.empty() || counts.empty()) return;
  const int64_t largest = counts.rbegin()->first;
  SUBSET_CHECK(largest < static_cast<int64_t>(names.size()), at,
               "label " << largest << " is out of range for " << names.size() << " class names");
}

// Streams /weights: every weight finite and >= 0, and representable as float32 (how it is read).
void inspect_weights(hid_t file, int64_t expected_rows, const std::string& where) {
  const std::string at = where + ":/weights";
  SUBSET_CHECK(h5::is_dataset(file, "/weights"), at, "weights must be a dataset");
  h5::Handle ds = h5::dataset_handle(H5Dopen2(file, "/weights", H5P_DEFAULT));
  SUBSET_CHECK(ds, at, "cannot open dataset (file truncated or corrupt?)");
  check_regular_layout(ds.id(), at);
  const auto shape = h5::dataset_shape(ds.id());
  SUBSET_CHECK(shape.size() == 1 && shape[0] == expected_rows, at,
               "weights must be 1-D with one entry per row (" << expected_rows << ")");
  h5::Handle type = h5::type_handle(H5Dget_type(ds.id()));
  SUBSET_CHECK(H5Tget_class(type.id()) == H5T_FLOAT, at, "weights must be floating-point");
  for_each_1d_block<double>(ds.id(), expected_rows, H5T_NATIVE_DOUBLE, at, "weights",
                            [&](int64_t begin, const double* weights, hsize_t count) {
    for (hsize_t i = 0; i < count; ++i)
      SUBSET_CHECK(std::isfinite(weights[i]) && weights[i] >= 0 && weights[i] <= std::numeric_limits<float>::max(), at,
                   "weight " << weights[i] << " at row " << begin + static_cast<int64_t>(i)
                             << " is not a finite number >= 0");
  });
}

}  // namespace

FeatureStore FeatureStore::open(const std::string& path) {
  // A store this command wrote and staged (io/atomic_output.h) is read from its temporary name.
  const std::string readable = readable_path(path);
  check_regular_input_path(readable);
  h5::silence_library_errors();
  const htri_t is_hdf5 = H5Fis_hdf5(readable.c_str());
  SUBSET_CHECK(is_hdf5 > 0, path, "not an HDF5 file");
  hid_t fid = H5Fopen(readable.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  SUBSET_CHECK(fid >= 0, path, "cannot open HDF5 file (truncated or corrupt?)");

  FeatureStore store;
  store.file_ = std::make_shared<File>(File{path, h5::file_handle(fid)});
  StoreInfo& info = store.info_;
  info.path = path;
  struct stat st;
  if (stat(readable.c_str(), &st) == 0) info.file_size = static_cast<uint64_t>(st.st_size);

  const auto format = h5::read_string_attr(fid, "format", path);
  const auto version = h5::read_int_array_attr(fid, "format_version", path);
  if (format) {
    SUBSET_CHECK(*format == kFormatName, path, "not a feature store: format attribute is '" << *format << "'");
    info.format_declared = true;
  }
  if (version) {
    SUBSET_CHECK(version->size() == 1, path, "format_version must be one integer");
    SUBSET_CHECK(version->front() >= 1, path, "invalid format_version " << version->front());
    SUBSET_CHECK(version->front() <= kFormatVersion, path,
                 "store format version " << version->front() << " is newer than this libsubset reads ("
                                         << kFormatVersion << "); upgrade libsubset");
    info.format_version = version->front();
  }
  info.source = h5::read_string_attr(fid, "source", path).value_or("");
  info.created_by = h5::read_string_attr(fid, "created_by", path).value_or("");
  if (const auto embedding = h5::read_string_attr(fid, "embedding", path)) {
    info.embedding = nlohmann::json::parse(*embedding, nullptr, false);
    if (info.embedding.is_discarded()) info.embedding = nullptr;
  }
  if (const auto energy = h5::read_string_attr(fid, "energy", path)) {
    // Informational only: a store whose report is damaged still opens.
    info.energy = nlohmann::json::parse(*energy, nullptr, false);
    if (info.energy.is_discarded()) info.energy = nullptr;
  }
  if (const auto same = h5::read_string_attr(fid, "same_rows", path))
    info.same_rows = SameRows::from_json(nlohmann::json::parse(*same, nullptr, false));
  // Informational too: both or neither, and only finite numbers in order.
  const auto lo = read_double_attr(fid, "value_min"), hi = read_double_attr(fid, "value_max");
  if (lo && hi && *lo <= *hi) {
    info.value_min = lo;
    info.value_max = hi;
  }

  info.features = inspect_float_matrix(fid, "/features", path);
  {
    h5::Handle ds = h5::dataset_handle(H5Dopen2(fid, "/features", H5P_DEFAULT));
    if (auto shape = h5::read_int_array_attr(ds.id(), "image_shape", path + ":/features")) {
      SUBSET_CHECK(shape->size() == 3, path + ":/features",
                   "image_shape must be [C, H, W], found " << describe_shape(*shape));
      int64_t product = 1;
      for (int64_t v : *shape) {
        SUBSET_CHECK(v > 0, path + ":/features", "image_shape " << describe_shape(*shape) << " has a non-positive size");
        product *= v;
      }
      SUBSET_CHECK(product == info.dim(), path + ":/features",
                   "image_shape " << describe_shape(*shape) << " holds " << product << " values but rows have "
                                  << info.dim());
      info.image_shape = *shape;
    }
  }

  std::string bound_reason;
  int64_t bound = 0;
  if (h5::link_exists(fid, "/labels")) {
    // Class names first: they are part of the bound every label is checked against.
    if (h5::is_dataset(fid, "/labels")) {
      h5::Handle ds = h5::dataset_handle(H5Dopen2(fid, "/labels", H5P_DEFAULT));
      info.class_names = h5::read_string_array_attr(ds.id(), "class_names", path + ":/labels").value_or(
          std::vector<std::string>{});
    }
    bound = label_bound(info.n(), info.class_names, bound_reason);
    info.class_counts = inspect_labels(fid, "/labels", info.n(), bound, bound_reason, path);
    info.has_labels = true;
    check_labels_in_range(info.class_counts, info.class_names, path + ":/labels");
  } else {
    bound = label_bound(info.n(), {}, bound_reason);
  }

  if (h5::link_exists(fid, "/weights")) {
    inspect_weights(fid, info.n(), path);
    info.has_weights = true;
  }

  if (h5::link_exists(fid, "/test")) {
    SUBSET_CHECK(h5::is_group(fid, "/test"), path, "/test must be a group");
    SUBSET_CHECK(h5::link_exists(fid, "/test/features"), path, "/test has no features dataset");
    info.test_features = inspect_float_matrix(fid, "/test/features", path);
    SUBSET_CHECK(info.test_features.cols == info.dim(), path + ":/test/features",
                 "test features have " << info.test_features.cols << " columns but /features has " << info.dim());
    info.has_test = true;
    if (h5::link_exists(fid, "/test/labels")) {
      info.test_class_counts = inspect_labels(fid, "/test/labels", info.test_features.rows, bound, bound_reason, path);
      info.has_test_labels = true;
      check_labels_in_range(info.test_class_counts, info.class_names, path + ":/test/labels");
    }
  }
  return store;
}

bool FeatureStore::has_dataset(const std::string& dataset) const {
  return h5::is_dataset(file_->handle.id(), dataset);
}

FeatureArray FeatureStore::array(const std::string& dataset) const {
  // Every dataset named by a caller stands for the training rows, whatever its name: selectors
  // index it with the store's labels and row count.
  return open_array(dataset, info_.n(), "/features");
}

FeatureArray FeatureStore::open_array(const std::string& dataset, int64_t expected_rows, const char* reference) const {
  ArrayInfo ai = inspect_float_matrix(file_->handle.id(), dataset, path());
  SUBSET_CHECK(ai.rows == expected_rows, path() + ":" + dataset,
               dataset << " has " << ai.rows << " rows but " << reference << " has " << expected_rows);
  auto impl = std::make_shared<FeatureArray::Impl>();
  impl->file = file_;
  // The default 1 MiB chunk cache would copy every chunk once more; row blocks are read whole,
  // so chunks go straight from disk into the caller's buffer.
  h5::Handle dapl = h5::plist_handle(H5Pcreate(H5P_DATASET_ACCESS));
  H5Pset_chunk_cache(dapl.id(), H5D_CHUNK_CACHE_NSLOTS_DEFAULT, 0, H5D_CHUNK_CACHE_W0_DEFAULT);
  impl->dataset = h5::dataset_handle(H5Dopen2(file_->handle.id(), dataset.c_str(), dapl.id()));
  SUBSET_CHECK(impl->dataset, path() + ":" + dataset, "cannot open dataset");
  return FeatureArray(std::move(impl), std::move(ai));
}

FeatureArray FeatureStore::features(Split split) const {
  SUBSET_CHECK(split == Split::Train || info_.has_test, path(), "store has no /test split");
  if (split == Split::Test) return open_array(features_dataset(split), info_.test_n(), "the test split");
  return array(features_dataset(split));
}

std::vector<int64_t> FeatureStore::labels(Split split) const {
  const bool present = split == Split::Train ? info_.has_labels : info_.has_test_labels;
  SUBSET_CHECK(present, path(), "store has no " << labels_dataset(split) << " dataset");
  const int64_t rows = split == Split::Train ? info_.n() : info_.test_n();
  std::vector<int64_t> out(static_cast<size_t>(rows));
  h5::Handle ds = h5::dataset_handle(H5Dopen2(file_->handle.id(), labels_dataset(split), H5P_DEFAULT));
  SUBSET_CHECK(ds && H5Dread(ds.id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0,
               path() + ":" + labels_dataset(split), "cannot read labels (file truncated or corrupt?)");
  return out;
}

std::vector<float> FeatureStore::weights() const {
  SUBSET_CHECK(info_.has_weights, path(), "store has no /weights dataset");
  std::vector<float> out(static_cast<size_t>(info_.n()));
  h5::Handle ds = h5::dataset_handle(H5Dopen2(file_->handle.id(), "/weights", H5P_DEFAULT));
  SUBSET_CHECK(ds && H5Dread(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0,
               path() + ":/weights", "cannot read weights (file truncated or corrupt?)");
  return out;
}

void FeatureStore::check_finite(Split split) const {
  const FeatureArray a = features(split);
  const int64_t row = a.find_non_finite_row();
  SUBSET_CHECK(row < 0, path() + ":" + features_dataset(split), "NaN or Inf in features at row " << row);
}

std::optional<SameRows> SameRows::from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("checksum") || !j["checksum"].is_string() || !j.contains("n") ||
      !j["n"].is_number_integer() || j["n"].get<int64_t>() < 0)
    return std::nullopt;
  SameRows r;
  r.checksum = j["checksum"].get<std::string>();
  r.n = j["n"].get<int64_t>();
  if (j.contains("source") && j["source"].is_string()) r.source = j["source"].get<std::string>();
  return r;
}

std::string format_checksum(unsigned long crc32) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "crc32:%08lx", crc32 & 0xffffffffUL);
  return buf;
}

std::string features_checksum_of(MatrixViewF rows) {
  return format_checksum(crc32_z(0, reinterpret_cast<const unsigned char*>(rows.data()),
                                 static_cast<size_t>(rows.size()) * sizeof(float)));
}

std::string FeatureStore::features_checksum(Split split) const {
  const FeatureArray a = features(split);
  if (!a.info().checksum.empty()) return a.info().checksum;
  unsigned long crc = 0;
  // Small blocks: this pass runs beside whatever a command holds (under --memory-limit, within
  // MemoryLimit's margin), and CRC speed does not grow with the block beyond a few MiB.
  a.for_each_block(a.block_rows_for(size_t{8} << 20), [&](int64_t, MatrixViewF block) {
    crc = crc32_z(crc, reinterpret_cast<const unsigned char*>(block.data()), static_cast<size_t>(block.size()) * 4);
    return true;
  });
  return format_checksum(crc);
}

void FeatureArray::read_rows(int64_t begin, int64_t count, float* out) const {
  SUBSET_CHECK(begin >= 0 && count >= 0 && begin + count <= info_.rows, impl_->file->path + ":" + info_.dataset,
               "rows [" << begin << ", " << begin + count << ") out of range for " << info_.rows << " rows");
  if (count == 0) return;
  const hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
  const hsize_t dims[2] = {static_cast<hsize_t>(count), static_cast<hsize_t>(info_.cols)};
  h5::Handle file_space = h5::space_handle(H5Dget_space(impl_->dataset.id()));
  h5::Handle mem_space = h5::space_handle(H5Screate_simple(2, dims, nullptr));
  H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start, nullptr, dims, nullptr);
  SUBSET_CHECK(H5Dread(impl_->dataset.id(), H5T_NATIVE_FLOAT, mem_space.id(), file_space.id(), H5P_DEFAULT, out) >= 0,
               impl_->file->path + ":" + info_.dataset,
               "cannot read rows " << begin << ".." << begin + count - 1 << " (file truncated or corrupt?)");
}

RowMatrixF FeatureArray::read_rows(int64_t begin, int64_t count) const {
  RowMatrixF m(count, info_.cols);
  read_rows(begin, count, m.data());
  return m;
}

RowMatrixF FeatureArray::read_all() const { return read_rows(0, info_.rows); }

int64_t FeatureArray::block_rows_for(size_t target_bytes) const {
  const int64_t row_bytes = info_.cols * static_cast<int64_t>(sizeof(float));
  const int64_t unit = std::max<int64_t>(1, info_.chunk_rows);
  const int64_t rows = std::max<int64_t>(1, static_cast<int64_t>(target_bytes) / row_bytes);
  return std::max(unit, rows / unit * unit);
}

void FeatureArray::for_each_block(int64_t block_rows, const std::function<bool(int64_t, MatrixViewF)>& fn) const {
  SUBSET_CHECK(block_rows > 0, info_.dataset, "block size must be positive");
  const int64_t rows = std::min(block_rows, info_.rows);
  std::vector<float> buf(static_cast<size_t>(rows * info_.cols));
  for (int64_t begin = 0; begin < info_.rows; begin += block_rows) {
    check_interrupted();
    const int64_t count = std::min(block_rows, info_.rows - begin);
    read_rows(begin, count, buf.data());
    if (!fn(begin, view(buf.data(), count, info_.cols))) return;
  }
}

int64_t FeatureArray::find_non_finite_row(size_t block_bytes) const {
  int64_t found = -1;
  for_each_block(block_rows_for(block_bytes), [&](int64_t first, MatrixViewF block) {
    const int64_t at = find_non_finite(block.data(), static_cast<size_t>(block.size()));
    if (at >= 0) found = first + at / block.cols();
    return found < 0;
  });
  return found;
}

}  // namespace subset::io
