#pragma once
// IDX files built byte by byte (the MNIST container: 0, 0, type, rank, big-endian u32 dimensions,
// then the data), written plain or through zlib's gzip writer.
#include <zlib.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/files.h"

namespace subset::test {

inline std::string idx_bytes(const std::vector<uint32_t>& dims, const std::vector<uint8_t>& data,
                             uint8_t type = 0x08) {
  std::string out;
  out.push_back('\0');
  out.push_back('\0');
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(dims.size()));
  for (uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((d >> shift) & 0xff));
  out.append(data.begin(), data.end());
  return out;
}

inline void write_gz(const std::string& path, const std::string& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("gzopen failed for " + path);
  if (!bytes.empty() &&
      gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) != static_cast<int>(bytes.size())) {
    gzclose(f);
    throw std::runtime_error("gzwrite failed for " + path);
  }
  if (gzclose(f) != Z_OK) throw std::runtime_error("gzclose failed for " + path);
}

}  // namespace subset::test
