#include "libsubset/io/model_file.h"

#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/matrix.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/internal/hdf5.h"

namespace subset::io {
namespace {

constexpr int64_t kModelFormatVersion = 1;

bool valid_array_name(const std::string& name) {
  return !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string::npos;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

}  // namespace

void write_model_file(const std::string& path, bool force, const ModelFile& model) {
  const ModelState& s = model.state;
  SUBSET_CHECK(!s.method.empty() && s.input_dim >= 1 && s.output_dim >= 1, path,
               "model to write has no method or no dimensions");
  for (const auto& [name, array] : s.arrays) {
    SUBSET_CHECK(valid_array_name(name), path, "model array name '" << name << "' is not [a-z0-9_]+");
    SUBSET_CHECK(!array.shape.empty() && element_count(array.shape) == static_cast<int64_t>(array.values.size()), path,
                 "model array '" << name << "' has " << array.values.size() << " values for its shape");
  }
  h5::silence_library_errors();
  AtomicOutput out(path, force);
  h5::Handle file = h5::file_handle(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  SUBSET_CHECK(file, path, "cannot create HDF5 file");
  const hid_t root = file.id();
  for (const auto& [name, array] : s.arrays) {
    const std::vector<hsize_t> dims(array.shape.begin(), array.shape.end());
    h5::Handle space = h5::space_handle(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
    h5::Handle ds = h5::dataset_handle(
        H5Dcreate2(root, name.c_str(), H5T_IEEE_F32LE, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    SUBSET_CHECK(ds && (array.values.empty() ||
                        H5Dwrite(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) >= 0),
                 path, "cannot write /" << name);
  }
  h5::write_string_attr(root, "format", kModelFormatName);
  h5::write_int_attr(root, "format_version", kModelFormatVersion);
  h5::write_string_attr(root, "method", s.method);
  h5::write_int_attr(root, "input_dim", s.input_dim);
  h5::write_int_attr(root, "output_dim", s.output_dim);
  h5::write_string_attr(root, "params", s.params.dump());
  h5::write_string_attr(root, "stats", s.stats.dump());
  h5::write_seed_attr(root, model.seed);
  h5::write_string_attr(root, "source", model.source);
  h5::write_string_attr(root, "source_checksum", model.source_checksum);
  h5::finish_output(file, out, model.created_by, model.energy, path);
}

ModelFile read_model_file(const std::string& path) {
  h5::Handle file = h5::open_file_of_format(path, kModelFormatName, kModelFormatVersion, "a model file");
  const hid_t root = file.id();
  ModelFile model;
  ModelState& s = model.state;
  s.method = h5::read_string_attr(root, "method", path).value_or("");
  SUBSET_CHECK(!s.method.empty(), path, "model file names no method");
  auto read_dim = [&](const char* name) {
    const auto v = h5::read_int_array_attr(root, name, path);
    SUBSET_CHECK(v && v->size() == 1 && v->front() >= 1, path, "attribute '" << name << "' is missing or < 1");
    return v->front();
  };
  s.input_dim = read_dim("input_dim");
  s.output_dim = read_dim("output_dim");
  s.params = h5::read_json_attr(root, "params", path);
  s.stats = h5::read_json_attr(root, "stats", path);
  model.seed = h5::read_seed_attr(root, path);
  model.source = h5::read_string_attr(root, "source", path).value_or("");
  model.source_checksum = h5::read_string_attr(root, "source_checksum", path).value_or("");
  model.created_by = h5::read_string_attr(root, "created_by", path).value_or("");
  if (h5::attr_exists(root, "energy")) model.energy = h5::read_json_attr(root, "energy", path);

  // Every dataset at the root is an array of the model.
  std::vector<std::string> names;
  H5Literate(
      root, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->emplace_back(name);
        return 0;
      },
      &names);
  for (const std::string& name : names) {
    if (!h5::is_dataset(root, name)) continue;
    const std::string at = path + ":/" + name;
    h5::Handle ds = h5::dataset_handle(H5Dopen2(root, name.c_str(), H5P_DEFAULT));
    SUBSET_CHECK(ds, at, "cannot open dataset");
    h5::Handle type = h5::type_handle(H5Dget_type(ds.id()));
    SUBSET_CHECK(H5Tget_class(type.id()) == H5T_FLOAT, at, "model arrays must hold floating-point numbers");
    FloatArray array;
    array.shape = h5::dataset_shape(ds.id());
    SUBSET_CHECK(!array.shape.empty(), at, "model arrays must have at least one dimension");
    int64_t count = 1, bytes = 0;
    for (int64_t d : array.shape)
      SUBSET_CHECK(d >= 0 && !__builtin_mul_overflow(count, d, &count) && !__builtin_mul_overflow(count, int64_t{4}, &bytes),
                   at, "model array shape is too large to address");
    array.values.resize(static_cast<size_t>(count));
    SUBSET_CHECK(array.values.empty() ||
                     H5Dread(ds.id(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, array.values.data()) >= 0,
                 at, "cannot read (file truncated or corrupt?)");
    // A NaN here would surface only in the transformed output, blamed on the output file.
    const int64_t bad = find_non_finite(array.values.data(), array.values.size());
    SUBSET_CHECK(bad < 0, at,
                 "NaN or Inf in model array '" << name << "' at element " << bad << " (the model file is damaged)");
    s.arrays.emplace(name, std::move(array));
  }
  return model;
}

}  // namespace subset::io
