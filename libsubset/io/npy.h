#pragma once
// NumPy .npy files (format versions 1-3): numeric arrays read as rows, streamed so an array larger
// than memory can be imported.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "libsubset/io/input_file.h"

namespace subset::io {

enum class NpyKind { Float, SignedInt, UnsignedInt, Bool };

struct NpyHeader {
  std::string descr;          // e.g. "<f4"
  NpyKind kind = NpyKind::Float;
  int item_size = 0;          // bytes per element
  bool big_endian = false;
  bool fortran_order = false;
  std::vector<int64_t> shape;
  std::string dtype_name() const;  // "float32", "uint8", ...
};

class NpyReader {
 public:
  // Parses the header. Throws Error naming the file for a bad magic string, an unsupported dtype
  // (structured, complex, strings, objects) or a header it cannot parse.
  explicit NpyReader(const std::string& path);
  ~NpyReader();
  const NpyHeader& header() const { return header_; }
  const std::string& path() const { return path_; }
  int64_t rows() const;  // shape[0] (1 for a 0-d array)
  int64_t cols() const;  // product of shape[1:] (1 for 1-D)

  // Reads the next `count` rows converted to float32 (count * cols() values).
  void read_rows_as_float(int64_t count, float* out);
  // Reads the whole (1-D) array as int64; floats must hold integral values, bools map to 0/1.
  std::vector<int64_t> read_all_as_int64();

 private:
  void read_elements(int64_t count, std::vector<unsigned char>& raw);
  void ensure_fortran_loaded();
  std::string path_;
  NpyHeader header_;
  std::unique_ptr<InputFile> in_;
  int64_t rows_read_ = 0;
  std::vector<float> fortran_rows_;  // Fortran-ordered arrays are transposed in memory once
};

}  // namespace subset::io
