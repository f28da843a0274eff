#pragma once
// Feature stores written directly with the HDF5 C API, independently of libsubset's writer, so tests
// can produce both valid stores and every kind of malformed one.
#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace subset::test {

enum class H5Kind { F32, F64, I32, I64 };

inline hid_t h5_file_type(H5Kind k) {
  switch (k) {
    case H5Kind::F32: return H5T_IEEE_F32LE;
    case H5Kind::F64: return H5T_IEEE_F64LE;
    case H5Kind::I32: return H5T_STD_I32LE;
    case H5Kind::I64: return H5T_STD_I64LE;
  }
  return H5T_IEEE_F32LE;
}

inline void h5_ok(herr_t rc, const std::string& what) {
  if (rc < 0) throw std::runtime_error("HDF5 call failed: " + what);
}
inline hid_t h5_id(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error("HDF5 call failed: " + what);
  return id;
}

// Writes `values` (given as doubles, converted by HDF5) to a new dataset of the given file type.
inline void h5_write_dataset(hid_t loc, const std::string& name, H5Kind kind, const std::vector<hsize_t>& dims,
                             const std::vector<double>& values, hsize_t chunk_rows = 0, unsigned gzip = 0) {
  hid_t space = h5_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "space " + name);
  hid_t dcpl = h5_id(H5Pcreate(H5P_DATASET_CREATE), "dcpl");
  if (chunk_rows > 0) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = chunk_rows;
    h5_ok(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "chunk");
    if (gzip > 0) {
      h5_ok(H5Pset_shuffle(dcpl), "shuffle");
      h5_ok(H5Pset_deflate(dcpl, gzip), "deflate");
    }
  }
  hid_t ds = h5_id(H5Dcreate2(loc, name.c_str(), h5_file_type(kind), space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                   "create " + name);
  if (!values.empty()) h5_ok(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write " + name);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(space);
}

inline void h5_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t attr = h5_id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attr " + name);
  const char* p = value.c_str();
  h5_ok(H5Awrite(attr, type, &p), "write attr " + name);
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

// A 1-D string array attribute: variable-length UTF-8 (h5py's str), or fixed-length null-padded
// ASCII of `fixed_size` bytes (numpy 'S' arrays as h5py stores them).
inline void h5_strings_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values,
                            size_t fixed_size = 0) {
  hid_t type = H5Tcopy(H5T_C_S1);
  const hsize_t n = values.size();
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t attr;
  if (fixed_size == 0) {
    H5Tset_size(type, H5T_VARIABLE);
    H5Tset_cset(type, H5T_CSET_UTF8);
    attr = h5_id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attr " + name);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    h5_ok(H5Awrite(attr, type, ptrs.data()), "write attr " + name);
  } else {
    H5Tset_size(type, fixed_size);
    H5Tset_strpad(type, H5T_STR_NULLPAD);
    attr = h5_id(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "attr " + name);
    std::string buf(values.size() * fixed_size, '\0');
    for (size_t i = 0; i < values.size(); ++i) buf.replace(i * fixed_size, values[i].size(), values[i]);
    h5_ok(H5Awrite(attr, type, buf.data()), "write attr " + name);
  }
  H5Aclose(attr);
  H5Sclose(space);
  H5Tclose(type);
}

// An int64 attribute: a scalar when `scalar` (as h5py writes a Python int), else 1-D.
inline void h5_ints_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values, bool scalar = false) {
  const hsize_t n = values.size();
  hid_t space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  hid_t attr = h5_id(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT), "attr " + name);
  h5_ok(H5Awrite(attr, H5T_NATIVE_INT64, values.data()), "write attr " + name);
  H5Aclose(attr);
  H5Sclose(space);
}

// A 1-D uint64 dataset written from exact values (doubles cannot hold 2^64-1).
inline void h5_write_u64(hid_t loc, const std::string& name, const std::vector<uint64_t>& values) {
  const hsize_t n = values.size();
  hid_t space = h5_id(H5Screate_simple(1, &n, nullptr), "space " + name);
  hid_t ds = h5_id(H5Dcreate2(loc, name.c_str(), H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                   "create " + name);
  h5_ok(H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), "write " + name);
  H5Dclose(ds);
  H5Sclose(space);
}

// A float32 dataset whose values live in a raw file beside the HDF5 file (external storage).
inline void h5_write_external_f32(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                                  const std::string& raw_file) {
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  hid_t dcpl = h5_id(H5Pcreate(H5P_DATASET_CREATE), "dcpl");
  h5_ok(H5Pset_external(dcpl, raw_file.c_str(), 0, count * 4), "external " + name);
  hid_t space = h5_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "space " + name);
  hid_t ds = h5_id(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                   "create " + name);
  H5Dclose(ds);
  H5Sclose(space);
  H5Pclose(dcpl);
}

// A float32 virtual dataset mapping all of `source_dataset` in `source_file` (which need not exist).
inline void h5_write_virtual_f32(hid_t loc, const std::string& name, const std::vector<hsize_t>& dims,
                                 const std::string& source_file, const std::string& source_dataset) {
  hid_t space = h5_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "space " + name);
  hid_t src_space = h5_id(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), "src space");
  hid_t dcpl = h5_id(H5Pcreate(H5P_DATASET_CREATE), "dcpl");
  h5_ok(H5Pset_virtual(dcpl, space, source_file.c_str(), source_dataset.c_str(), src_space), "virtual " + name);
  hid_t ds = h5_id(H5Dcreate2(loc, name.c_str(), H5T_IEEE_F32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                   "create " + name);
  H5Dclose(ds);
  H5Pclose(dcpl);
  H5Sclose(src_space);
  H5Sclose(space);
}

// Value of feature (row, col) in every crafted store: exact in float32.
inline double feature_value(int64_t row, int64_t col) { return static_cast<double>(row * 10 + col) + 0.5; }

inline std::vector<double> feature_values(const std::vector<hsize_t>& dims) {
  // Row-major: the first axis is the row; all later axes are flattened into the column.
  hsize_t rows = dims.empty() ? 1 : dims[0], cols = 1;
  for (size_t i = 1; i < dims.size(); ++i) cols *= dims[i];
  std::vector<double> v;
  for (hsize_t r = 0; r < rows; ++r)
    for (hsize_t c = 0; c < cols; ++c) v.push_back(feature_value(static_cast<int64_t>(r), static_cast<int64_t>(c)));
  return v;
}

struct StoreSpec {
  std::vector<hsize_t> dims = {10, 3};
  H5Kind feature_kind = H5Kind::F32;
  hsize_t chunk_rows = 4;  // 0: contiguous
  unsigned gzip = 0;
  std::vector<double> features;  // empty: feature_values(dims)
  std::optional<std::vector<int64_t>> image_shape;
  std::optional<std::vector<int64_t>> labels = std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0, 1, 2, 2};
  H5Kind label_kind = H5Kind::I64;
  std::vector<hsize_t> label_dims;  // empty: {labels.size()}
  std::optional<std::vector<std::string>> class_names = std::vector<std::string>{"a", "b", "c"};
  size_t class_names_fixed = 0;
  std::optional<std::vector<hsize_t>> test_dims;
  std::vector<double> test_features;  // empty: feature_values(test_dims)
  std::optional<std::vector<int64_t>> test_labels;
  bool test_group_only = false;  // a /test group without features
  std::optional<std::string> format = std::string("subset-store");
  std::optional<int64_t> format_version = 1;
  std::optional<std::string> source = std::string("unit test");
  std::optional<std::string> created_by = std::string("h5_builder");
};

inline void write_store(const std::string& path, const StoreSpec& s) {
  hid_t file = h5_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create " + path);
  h5_write_dataset(file, "/features", s.feature_kind, s.dims, s.features.empty() ? feature_values(s.dims) : s.features,
                   s.chunk_rows ? std::min(s.chunk_rows, s.dims[0]) : 0, s.gzip);
  if (s.image_shape) {
    hid_t ds = H5Dopen2(file, "/features", H5P_DEFAULT);
    h5_ints_attr(ds, "image_shape", *s.image_shape);
    H5Dclose(ds);
  }
  if (s.labels) {
    std::vector<double> l(s.labels->begin(), s.labels->end());
    std::vector<hsize_t> dims = s.label_dims.empty() ? std::vector<hsize_t>{s.labels->size()} : s.label_dims;
    h5_write_dataset(file, "/labels", s.label_kind, dims, l);
    if (s.class_names) {
      hid_t ds = H5Dopen2(file, "/labels", H5P_DEFAULT);
      h5_strings_attr(ds, "class_names", *s.class_names, s.class_names_fixed);
      H5Dclose(ds);
    }
  }
  if (s.test_dims || s.test_group_only) {
    hid_t g = h5_id(H5Gcreate2(file, "/test", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), "group /test");
    H5Gclose(g);
  }
  if (s.test_dims) {
    h5_write_dataset(file, "/test/features", H5Kind::F32, *s.test_dims,
                     s.test_features.empty() ? feature_values(*s.test_dims) : s.test_features, 0);
    if (s.test_labels) {
      std::vector<double> l(s.test_labels->begin(), s.test_labels->end());
      h5_write_dataset(file, "/test/labels", H5Kind::I64, {s.test_labels->size()}, l);
    }
  }
  if (s.format) h5_string_attr(file, "format", *s.format);
  if (s.format_version) h5_ints_attr(file, "format_version", {*s.format_version}, true);
  if (s.source) h5_string_attr(file, "source", *s.source);
  if (s.created_by) h5_string_attr(file, "created_by", *s.created_by);
  h5_ok(H5Fclose(file), "close " + path);
}

}  // namespace subset::test
