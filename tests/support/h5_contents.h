#pragma once
// Everything an HDF5 file holds, for tests that compare two files bit for bit: every dataset and
// every attribute (of the root, groups and datasets) by name ("/features", "/@source",
// "/features@checksum"), as the bytes of its values in their native type (variable-length strings
// as their text).
#include <hdf5.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace subset::test {

namespace h5_contents_detail {

// The values of an attribute (is_attribute) or dataset `id` of file type `type` and space `space`.
inline std::string values_of(hid_t id, bool is_attribute, hid_t type, hid_t space) {
  const auto n = static_cast<size_t>(H5Sget_simple_extent_npoints(space));
  std::string bytes;
  if (H5Tis_variable_str(type) > 0) {
    hid_t memory = H5Tcopy(H5T_C_S1);
    H5Tset_size(memory, H5T_VARIABLE);
    H5Tset_cset(memory, H5Tget_cset(type));
    std::vector<char*> text(n, nullptr);
    const herr_t rc = is_attribute ? H5Aread(id, memory, text.data())
                                   : H5Dread(id, memory, H5S_ALL, H5S_ALL, H5P_DEFAULT, text.data());
    if (rc < 0) throw std::runtime_error("cannot read strings");
    for (char* t : text) {
      bytes += t ? t : "";
      bytes.push_back('\0');
    }
    H5Dvlen_reclaim(memory, space, H5P_DEFAULT, text.data());
    H5Tclose(memory);
    return bytes;
  }
  hid_t native = H5Tget_native_type(type, H5T_DIR_ASCEND);
  bytes.resize(n * H5Tget_size(native));
  const herr_t rc = is_attribute ? H5Aread(id, native, bytes.data())
                                 : H5Dread(id, native, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
  H5Tclose(native);
  if (rc < 0) throw std::runtime_error("cannot read values");
  return bytes;
}

struct Walk {
  std::map<std::string, std::string>* out;
  std::string prefix;
};

inline herr_t add_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto* walk = static_cast<Walk*>(data);
  hid_t attr = H5Aopen(object, name, H5P_DEFAULT);
  hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
  (*walk->out)[walk->prefix + "@" + name] = values_of(attr, true, type, space);
  H5Sclose(space);
  H5Tclose(type);
  H5Aclose(attr);
  return 0;
}

inline void add_attributes(hid_t object, const std::string& name, std::map<std::string, std::string>& out) {
  Walk walk{&out, name};
  H5Aiterate2(object, H5_INDEX_NAME, H5_ITER_INC, nullptr, add_attribute, &walk);
}

inline void add_group(hid_t group, const std::string& name, std::map<std::string, std::string>& out) {
  add_attributes(group, name, out);
  H5G_info_t info;
  if (H5Gget_info(group, &info) < 0) throw std::runtime_error("cannot list " + name);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    char child[1024];
    H5Lget_name_by_idx(group, ".", H5_INDEX_NAME, H5_ITER_INC, i, child, sizeof child, H5P_DEFAULT);
    const std::string path = (name == "/" ? "/" : name + "/") + child;
    hid_t object = H5Oopen(group, child, H5P_DEFAULT);
    if (H5Iget_type(object) == H5I_GROUP) {
      add_group(object, path, out);
    } else if (H5Iget_type(object) == H5I_DATASET) {
      hid_t type = H5Dget_type(object), space = H5Dget_space(object);
      out[path] = values_of(object, false, type, space);
      H5Sclose(space);
      H5Tclose(type);
      add_attributes(object, path, out);
    }
    H5Oclose(object);
  }
}

}  // namespace h5_contents_detail

inline std::map<std::string, std::string> h5_contents(const std::string& path) {
  hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) throw std::runtime_error("cannot open " + path);
  std::map<std::string, std::string> out;
  hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
  h5_contents_detail::add_group(root, "/", out);
  H5Gclose(root);
  H5Fclose(file);
  return out;
}

}  // namespace subset::test
