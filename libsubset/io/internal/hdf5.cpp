#include "libsubset/io/internal/hdf5.h"

#include <charconv>
#include <mutex>

#include "libsubset/core/error.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/io/input_file.h"

namespace subset::io::h5 {

void silence_library_errors() {
  static std::once_flag once;
  std::call_once(once, [] {
    // HDF5's exit handler closes whatever is still open. After a close that failed to flush (a full
    // disk) the file's identifier dangles, and that handler would crash on it. libsubset closes
    // every file it writes before using it, so there is nothing for the handler to do. Effective
    // only before HDF5's first call, hence here.
    H5dont_atexit();
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  });
}

Handle file_handle(hid_t id) { return Handle(id, H5Fclose); }
Handle dataset_handle(hid_t id) { return Handle(id, H5Dclose); }
Handle group_handle(hid_t id) { return Handle(id, H5Gclose); }
Handle space_handle(hid_t id) { return Handle(id, H5Sclose); }
Handle type_handle(hid_t id) { return Handle(id, H5Tclose); }
Handle attr_handle(hid_t id) { return Handle(id, H5Aclose); }
Handle plist_handle(hid_t id) { return Handle(id, H5Pclose); }

bool link_exists(hid_t loc, const std::string& path) {
  // H5Lexists fails (rather than answering false) when an intermediate group is missing.
  size_t pos = path.front() == '/' ? 1 : 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string::npos) next = path.size();
    if (H5Lexists(loc, path.substr(0, next).c_str(), H5P_DEFAULT) <= 0) return false;
    pos = next + 1;
  }
  return true;
}

static bool object_is(hid_t loc, const std::string& path, H5O_type_t type) {
  if (!link_exists(loc, path)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name2(loc, path.c_str(), &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return false;
  return info.type == type;
}

bool is_dataset(hid_t loc, const std::string& path) { return object_is(loc, path, H5O_TYPE_DATASET); }
bool is_group(hid_t loc, const std::string& path) { return object_is(loc, path, H5O_TYPE_GROUP); }

std::vector<int64_t> dataset_shape(hid_t dataset) {
  Handle space = space_handle(H5Dget_space(dataset));
  if (!space) throw Error("cannot read dataset shape");
  const int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) throw Error("cannot read dataset shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

bool attr_exists(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

namespace {

// Reads all elements of a string attribute (scalar or 1-D), fixed or variable length.
std::vector<std::string> read_strings(hid_t attr, const std::string& what) {
  Handle type = type_handle(H5Aget_type(attr));
  if (!type || H5Tget_class(type.id()) != H5T_STRING) throw Error("attribute is not text", what);
  Handle space = space_handle(H5Aget_space(attr));
  const hssize_t count = H5Sget_simple_extent_npoints(space.id());
  if (count < 0) throw Error("cannot read attribute", what);
  std::vector<std::string> out;
  out.reserve(static_cast<size_t>(count));
  if (H5Tis_variable_str(type.id()) > 0) {
    Handle mem = type_handle(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem.id(), H5T_VARIABLE);
    H5Tset_cset(mem.id(), H5Tget_cset(type.id()));
    std::vector<char*> ptrs(static_cast<size_t>(count), nullptr);
    if (H5Aread(attr, mem.id(), ptrs.data()) < 0) throw Error("cannot read attribute", what);
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.id(), space.id(), H5P_DEFAULT, ptrs.data());
  } else {
    const size_t size = H5Tget_size(type.id());
    std::vector<char> buf(size * static_cast<size_t>(count) + 1, '\0');
    if (H5Aread(attr, type.id(), buf.data()) < 0) throw Error("cannot read attribute", what);
    for (hssize_t i = 0; i < count; ++i) {
      const char* p = buf.data() + static_cast<size_t>(i) * size;
      size_t len = 0;
      while (len < size && p[len] != '\0') ++len;
      std::string s(p, len);
      while (!s.empty() && s.back() == ' ') s.pop_back();  // space-padded Fortran-style strings
      out.push_back(std::move(s));
    }
  }
  return out;
}

Handle open_attr(hid_t obj, const std::string& name, const std::string& what) {
  Handle attr = attr_handle(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr) throw Error("cannot open attribute", what);
  return attr;
}

Handle vlen_utf8_type() {
  Handle t = type_handle(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.id(), H5T_VARIABLE);
  H5Tset_cset(t.id(), H5T_CSET_UTF8);
  return t;
}

void replace_attr(hid_t obj, const std::string& name) {
  if (attr_exists(obj, name)) H5Adelete(obj, name.c_str());
}

void check(herr_t rc, const std::string& what) {
  if (rc < 0) throw Error("cannot write attribute", what);
}

}  // namespace

std::optional<std::string> read_string_attr(hid_t obj, const std::string& name, const std::string& where) {
  if (!attr_exists(obj, name)) return std::nullopt;
  const std::string what = where + " attribute '" + name + "'";
  Handle attr = open_attr(obj, name, what);
  auto values = read_strings(attr.id(), what);
  if (values.size() != 1) throw Error("expected one string, found " + std::to_string(values.size()), what);
  return values.front();
}

std::optional<std::vector<std::string>> read_string_array_attr(hid_t obj, const std::string& name,
                                                                const std::string& where) {
  if (!attr_exists(obj, name)) return std::nullopt;
  const std::string what = where + " attribute '" + name + "'";
  Handle attr = open_attr(obj, name, what);
  return read_strings(attr.id(), what);
}

std::optional<std::vector<int64_t>> read_int_array_attr(hid_t obj, const std::string& name,
                                                         const std::string& where) {
  if (!attr_exists(obj, name)) return std::nullopt;
  const std::string what = where + " attribute '" + name + "'";
  Handle attr = open_attr(obj, name, what);
  Handle type = type_handle(H5Aget_type(attr.id()));
  if (!type || H5Tget_class(type.id()) != H5T_INTEGER) throw Error("attribute must hold integers", what);
  Handle space = space_handle(H5Aget_space(attr.id()));
  const hssize_t count = H5Sget_simple_extent_npoints(space.id());
  if (count < 0) throw Error("cannot read attribute", what);
  std::vector<int64_t> out(static_cast<size_t>(count));
  if (H5Aread(attr.id(), H5T_NATIVE_INT64, out.data()) < 0) throw Error("cannot read attribute", what);
  return out;
}

nlohmann::json read_json_attr(hid_t obj, const std::string& name, const std::string& where) {
  const auto text = read_string_attr(obj, name, where);
  if (!text || text->empty()) return nlohmann::json::object();
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::exception&) {
    throw Error("attribute '" + name + "' is not valid JSON", where);
  }
}

void write_seed_attr(hid_t obj, uint64_t seed) { write_string_attr(obj, "seed", std::to_string(seed)); }

uint64_t read_seed_attr(hid_t obj, const std::string& where) {
  const std::string text = read_string_attr(obj, "seed", where).value_or("0");
  uint64_t seed = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seed);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    throw Error("attribute 'seed' is not a whole number from 0 to 2^64-1: '" + text + "'", where);
  return seed;
}

void finish_output(Handle& file, AtomicOutput& out, const std::string& created_by, const nlohmann::json& energy,
                   const std::string& path) {
  const hid_t root = file.id();
  write_string_attr(root, "created_by", created_by.empty() ? std::string("libsubset ") + kVersion : created_by);
  if (!energy.is_null()) write_string_attr(root, "energy", energy.dump());
  if (!file.close()) throw Error("cannot finish writing the HDF5 file (disk full?)", path);
  out.commit();
}

Handle open_file_of_format(const std::string& path, const std::string& format, int64_t max_version,
                           const std::string& what) {
  // A file this command wrote and staged is read from its temporary name.
  const std::string readable = readable_path(path);
  check_regular_input_path(readable);
  silence_library_errors();
  if (H5Fis_hdf5(readable.c_str()) <= 0) throw Error("not an HDF5 file", path);
  Handle file = file_handle(H5Fopen(readable.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
  if (!file) throw Error("cannot open HDF5 file (truncated or corrupt?)", path);
  const auto declared = read_string_attr(file.id(), "format", path);
  if (!declared || *declared != format)
    throw Error("not " + what + " (format attribute is " + (declared ? "'" + *declared + "'" : "missing") + ")", path);
  const auto version = read_int_array_attr(file.id(), "format_version", path);
  if (!version || version->size() != 1 || version->front() < 1 || version->front() > max_version)
    throw Error("unsupported " + format + " format version", path);
  return file;
}

void write_string_attr(hid_t obj, const std::string& name, const std::string& value) {
  replace_attr(obj, name);
  Handle type = vlen_utf8_type();
  Handle space = space_handle(H5Screate(H5S_SCALAR));
  Handle attr = attr_handle(H5Acreate2(obj, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr) throw Error("cannot create attribute", name);
  const char* p = value.c_str();
  check(H5Awrite(attr.id(), type.id(), &p), name);
}

void write_string_array_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values) {
  replace_attr(obj, name);
  Handle type = vlen_utf8_type();
  const hsize_t n = values.size();
  Handle space = space_handle(H5Screate_simple(1, &n, nullptr));
  Handle attr = attr_handle(H5Acreate2(obj, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr) throw Error("cannot create attribute", name);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check(H5Awrite(attr.id(), type.id(), ptrs.data()), name);
}

void write_int_array_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values) {
  replace_attr(obj, name);
  const hsize_t n = values.size();
  Handle space = space_handle(H5Screate_simple(1, &n, nullptr));
  Handle attr = attr_handle(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr) throw Error("cannot create attribute", name);
  check(H5Awrite(attr.id(), H5T_NATIVE_INT64, values.data()), name);
}

void write_int_attr(hid_t obj, const std::string& name, int64_t value) {
  replace_attr(obj, name);
  Handle space = space_handle(H5Screate(H5S_SCALAR));
  Handle attr = attr_handle(H5Acreate2(obj, name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!attr) throw Error("cannot create attribute", name);
  check(H5Awrite(attr.id(), H5T_NATIVE_INT64, &value), name);
}

}  // namespace subset::io::h5
