#include "libsubset/io/selection_file.h"

#include <algorithm>

#include "libsubset/core/error.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/internal/hdf5.h"

namespace subset::io {
namespace {

constexpr int64_t kSelectionFormatVersion = 1;

template <typename T>
void write_vector(hid_t file, const char* name, hid_t file_type, hid_t mem_type, const std::vector<T>& values,
                  const std::string& where) {
  const hsize_t n = values.size();
  h5::Handle space = h5::space_handle(H5Screate_simple(1, &n, nullptr));
  h5::Handle ds = h5::dataset_handle(H5Dcreate2(file, name, file_type, space.id(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  SUBSET_CHECK(ds && (values.empty() || H5Dwrite(ds.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0),
               where, "cannot write /" << name);
}

template <typename T>
std::vector<T> read_vector(hid_t file, const char* name, hid_t mem_type, H5T_class_t expected, const std::string& where) {
  const std::string at = where + ":/" + name;
  SUBSET_CHECK(h5::is_dataset(file, name), where, "selection file has no /" << name << " dataset");
  h5::Handle ds = h5::dataset_handle(H5Dopen2(file, name, H5P_DEFAULT));
  SUBSET_CHECK(ds, at, "cannot open dataset");
  const auto shape = h5::dataset_shape(ds.id());
  SUBSET_CHECK(shape.size() == 1, at, "must be 1-D");
  h5::Handle type = h5::type_handle(H5Dget_type(ds.id()));
  SUBSET_CHECK(H5Tget_class(type.id()) == expected, at,
               (expected == H5T_INTEGER ? "must hold integers" : "must hold floating-point numbers"));
  int64_t bytes = 0;
  SUBSET_CHECK(!__builtin_mul_overflow(shape[0], static_cast<int64_t>(sizeof(T)), &bytes), at,
               "shape [" << shape[0] << "] is too large to address");
  std::vector<T> out(static_cast<size_t>(shape[0]));
  SUBSET_CHECK(out.empty() || H5Dread(ds.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()) >= 0, at,
               "cannot read (file truncated or corrupt?)");
  return out;
}

}  // namespace

void write_selection(const std::string& path, bool force, const SelectionFile& sel) {
  SUBSET_CHECK(sel.weights.empty() || sel.weights.size() == sel.indices.size(), path, "one weight per index needed");
  SUBSET_CHECK(sel.scores.empty() || sel.scores.size() == sel.indices.size(), path, "one score per index needed");
  h5::silence_library_errors();
  AtomicOutput out(path, force);
  h5::Handle file = h5::file_handle(H5Fcreate(out.temp_path().c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT));
  SUBSET_CHECK(file, path, "cannot create HDF5 file");
  write_vector(file.id(), "indices", H5T_STD_I64LE, H5T_NATIVE_INT64, sel.indices, path);
  if (!sel.weights.empty()) write_vector(file.id(), "weights", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, sel.weights, path);
  if (!sel.scores.empty()) write_vector(file.id(), "scores", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, sel.scores, path);
  const SelectionManifest& m = sel.manifest;
  const hid_t root = file.id();
  h5::write_string_attr(root, "format", kSelectionFormatName);
  h5::write_int_attr(root, "format_version", kSelectionFormatVersion);
  h5::write_string_attr(root, "method", m.method);
  h5::write_string_attr(root, "params", m.params.dump());
  h5::write_seed_attr(root, m.seed);
  h5::write_int_attr(root, "budget", m.budget);
  h5::write_int_attr(root, "per_class", m.per_class ? 1 : 0);
  h5::write_string_attr(root, "features_dataset", m.features_dataset);
  h5::write_string_attr(root, "source", m.source);
  h5::write_int_attr(root, "source_n", m.source_n);
  if (m.source_dim > 0) h5::write_int_attr(root, "source_dim", m.source_dim);
  h5::write_string_attr(root, "source_checksum", m.source_checksum);
  h5::write_string_attr(root, "stats", m.stats.dump());
  if (m.same_rows) h5::write_string_attr(root, "same_rows", m.same_rows->to_json().dump());
  if (!m.embedding.is_null()) h5::write_string_attr(root, "embedding", m.embedding.dump());
  h5::finish_output(file, out, m.created_by, m.energy, path);
}

nlohmann::json to_json(const SelectionManifest& m) {
  return {{"method", m.method},
          {"params", m.params},
          {"seed", m.seed},
          {"budget", m.budget},
          {"per_class", m.per_class},
          {"features_dataset", m.features_dataset},
          {"source", m.source},
          {"source_n", m.source_n},
          {"source_dim", m.source_dim},
          {"source_checksum", m.source_checksum},
          {"created_by", m.created_by},
          {"stats", m.stats},
          {"energy", m.energy},
          {"same_rows", m.same_rows ? m.same_rows->to_json() : nlohmann::json(nullptr)},
          {"embedding", m.embedding}};
}

SelectionFile read_selection(const std::string& path) {
  h5::Handle file = h5::open_file_of_format(path, kSelectionFormatName, kSelectionFormatVersion, "a selection file");
  const hid_t root = file.id();

  SelectionFile sel;
  SelectionManifest& m = sel.manifest;
  m.method = h5::read_string_attr(root, "method", path).value_or("");
  m.params = h5::read_json_attr(root, "params", path);
  m.seed = h5::read_seed_attr(root, path);
  auto read_int = [&](const char* name) {
    const auto v = h5::read_int_array_attr(root, name, path);
    SUBSET_CHECK(v && v->size() == 1, path, "attribute '" << name << "' is missing");
    return v->front();
  };
  m.budget = read_int("budget");
  m.per_class = read_int("per_class") != 0;
  m.source_n = read_int("source_n");
  SUBSET_CHECK(m.source_n >= 0, path, "attribute 'source_n' is negative (" << m.source_n << ")");
  if (h5::attr_exists(root, "source_dim")) {
    m.source_dim = read_int("source_dim");
    SUBSET_CHECK(m.source_dim >= 1, path, "attribute 'source_dim' must be >= 1, found " << m.source_dim);
  }
  m.features_dataset = h5::read_string_attr(root, "features_dataset", path).value_or("/features");
  m.source = h5::read_string_attr(root, "source", path).value_or("");
  m.source_checksum = h5::read_string_attr(root, "source_checksum", path).value_or("");
  m.created_by = h5::read_string_attr(root, "created_by", path).value_or("");
  m.stats = h5::read_json_attr(root, "stats", path);
  if (h5::attr_exists(root, "energy")) m.energy = h5::read_json_attr(root, "energy", path);
  if (h5::attr_exists(root, "same_rows")) m.same_rows = SameRows::from_json(h5::read_json_attr(root, "same_rows", path));
  if (h5::attr_exists(root, "embedding")) m.embedding = h5::read_json_attr(root, "embedding", path);

  sel.indices = read_vector<int64_t>(root, "indices", H5T_NATIVE_INT64, H5T_INTEGER, path);
  if (h5::link_exists(root, "weights"))
    sel.weights = read_vector<float>(root, "weights", H5T_NATIVE_FLOAT, H5T_FLOAT, path);
  if (h5::link_exists(root, "scores")) sel.scores = read_vector<float>(root, "scores", H5T_NATIVE_FLOAT, H5T_FLOAT, path);
  SUBSET_CHECK(sel.weights.empty() || sel.weights.size() == sel.indices.size(), path + ":/weights",
               "has " << sel.weights.size() << " entries for " << sel.indices.size() << " indices");
  SUBSET_CHECK(sel.scores.empty() || sel.scores.size() == sel.indices.size(), path + ":/scores",
               "has " << sel.scores.size() << " entries for " << sel.indices.size() << " indices");
  std::vector<int64_t> sorted = sel.indices;
  std::sort(sorted.begin(), sorted.end());
  for (size_t i = 0; i < sorted.size(); ++i) {
    SUBSET_CHECK(sorted[i] >= 0, path + ":/indices", "negative index " << sorted[i]);
    SUBSET_CHECK(i == 0 || sorted[i] != sorted[i - 1], path + ":/indices", "index " << sorted[i] << " appears twice");
  }
  m.max_index = sorted.empty() ? -1 : sorted.back();
  return sel;
}

bool same_rows(const SelectionManifest& m, const FeatureStore& store) {
  return m.same_rows && m.same_rows->n == store.info().n() && m.source_n == store.info().n() &&
         m.same_rows->checksum == store.features_checksum();
}

}  // namespace subset::io
