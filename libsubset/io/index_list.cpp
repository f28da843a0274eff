#include "libsubset/io/index_list.h"

#include <cstdio>
#include <cstring>
#include <string>

#include "libsubset/core/error.h"
#include "libsubset/io/atomic_output.h"

namespace subset::io {
namespace {

bool ends_with(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

std::string npy_bytes(const std::vector<int64_t>& values) {
  std::string dict = "{'descr': '<i8', 'fortran_order': False, 'shape': (" + std::to_string(values.size()) + ",), }";
  // magic (6) + version (2) + length (2) + dict + '\n' is padded to a multiple of 64 bytes.
  dict.append((64 - (10 + dict.size() + 1) % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY\x01\x00", 8);
  out.push_back(static_cast<char>(dict.size() & 0xff));
  out.push_back(static_cast<char>(dict.size() >> 8));
  out += dict;
  out.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(int64_t));
  return out;
}

}  // namespace

void check_index_list_path(const std::string& path, bool force) {
  SUBSET_CHECK(ends_with(path, ".txt") || ends_with(path, ".npy"), path,
               "index list must be a .txt or .npy file");
  check_output_path(path, force);
}

void write_index_list(const std::string& path, bool force, const std::vector<int64_t>& indices) {
  check_index_list_path(path, force);
  std::string bytes;
  if (ends_with(path, ".npy")) {
    bytes = npy_bytes(indices);
  } else {
    for (int64_t i : indices) bytes += std::to_string(i) + "\n";
  }
  AtomicOutput out(path, force);
  std::FILE* f = std::fopen(out.temp_path().c_str(), "wb");
  SUBSET_CHECK(f, path, "cannot write: " << std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  SUBSET_CHECK(std::fclose(f) == 0 && ok, path, "cannot write (disk full?)");
  out.commit();
}

}  // namespace subset::io
