#pragma once
// IDX files (the MNIST / Fashion-MNIST container), plain or gzip-compressed.
#include <cstdint>
#include <string>
#include <vector>

namespace subset::io {

struct IdxArray {
  std::vector<int64_t> shape;  // e.g. [60000, 28, 28]
  std::vector<uint8_t> data;   // row-major
};

// Reads an unsigned-byte IDX file (type code 0x08), gzip'd or not. Throws Error naming the file
// for a bad magic number, another element type, or a truncated payload.
IdxArray read_idx_u8(const std::string& path);

}  // namespace subset::io
