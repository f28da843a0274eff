#pragma once
// Thin RAII and attribute helpers over the HDF5 C API, private to libsubset/io. The C API is used
// rather than HDF5's C++ bindings for explicit control of error reporting: HDF5's own error stack
// printing is switched off and every failure becomes a subset::Error naming the file and object.
#include <hdf5.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace subset::io {
class AtomicOutput;
}

namespace subset::io::h5 {

// Turns off HDF5's automatic error-stack printing (once per process).
void silence_library_errors();

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_), closer_(o.closer_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      closer_ = o.closer_;
      o.id_ = H5I_INVALID_HID;
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }
  // Closes now and reports failure (e.g. a write that could not be flushed).
  bool close() {
    if (id_ < 0) return true;
    const herr_t rc = closer_(id_);
    id_ = H5I_INVALID_HID;
    return rc >= 0;
  }
  hid_t id() const { return id_; }
  explicit operator bool() const { return id_ >= 0; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

Handle file_handle(hid_t id);
Handle dataset_handle(hid_t id);
Handle group_handle(hid_t id);
Handle space_handle(hid_t id);
Handle type_handle(hid_t id);
Handle attr_handle(hid_t id);
Handle plist_handle(hid_t id);

bool link_exists(hid_t loc, const std::string& path);  // checks each component of a/b/c
bool is_dataset(hid_t loc, const std::string& path);
bool is_group(hid_t loc, const std::string& path);
std::vector<int64_t> dataset_shape(hid_t dataset);
bool attr_exists(hid_t obj, const std::string& name);

// Attribute readers return nullopt when the attribute is absent and throw when it exists but
// has another type. `where` names the object for messages.
std::optional<std::string> read_string_attr(hid_t obj, const std::string& name, const std::string& where);
std::optional<std::vector<std::string>> read_string_array_attr(hid_t obj, const std::string& name,
                                                                const std::string& where);
std::optional<std::vector<int64_t>> read_int_array_attr(hid_t obj, const std::string& name,
                                                         const std::string& where);

// A JSON attribute (stored as a string): an empty object when absent or empty; throws Error naming
// `where` when the text is not JSON.
nlohmann::json read_json_attr(hid_t obj, const std::string& name, const std::string& where);

// A 64-bit seed, stored as decimal text so that no reader truncates it to int64 or double; 0 when
// the attribute is absent, Error naming `where` when it is not a whole number in [0, 2^64).
void write_seed_attr(hid_t obj, uint64_t seed);
uint64_t read_seed_attr(hid_t obj, const std::string& where);

// The end of writing a libsubset file: root attributes created_by (the library version when empty)
// and energy (unless null), then the file closed (Error naming `path` when it cannot be flushed)
// and renamed into place.
void finish_output(Handle& file, AtomicOutput& out, const std::string& created_by, const nlohmann::json& energy,
                   const std::string& path);

// Opens `path` read-only as a libsubset file whose root attribute "format" is `format` and whose
// "format_version" is in [1, max_version]; `what` names the kind in errors ("a selection file").
// Throws Error naming the path for a missing, non-HDF5, corrupt or foreign file.
Handle open_file_of_format(const std::string& path, const std::string& format, int64_t max_version,
                           const std::string& what);

// Writers store variable-length UTF-8 strings (h5py reads them as str) and int64 arrays.
void write_string_attr(hid_t obj, const std::string& name, const std::string& value);
void write_string_array_attr(hid_t obj, const std::string& name, const std::vector<std::string>& values);
void write_int_array_attr(hid_t obj, const std::string& name, const std::vector<int64_t>& values);
void write_int_attr(hid_t obj, const std::string& name, int64_t value);

}  // namespace subset::io::h5
