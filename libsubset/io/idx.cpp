#include "libsubset/io/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/io/input_file.h"

namespace subset::io {
namespace {

class GzFile {
 public:
  explicit GzFile(const std::string& path) : path_(path) {
    check_input_path(path);
    {
      const BlockingCall blocking;  // opening a FIFO waits for its writer
      file_ = gzopen(path.c_str(), "rb");
    }
    check_interrupted();
    SUBSET_CHECK(file_ != nullptr, path, "cannot open: " << std::strerror(errno));
    gzbuffer(file_, 1 << 20);
  }
  ~GzFile() {
    if (file_) gzclose(file_);
  }
  GzFile(const GzFile&) = delete;
  GzFile& operator=(const GzFile&) = delete;

  void read_exact(void* out, size_t n, const char* what) {
    auto* p = static_cast<unsigned char*>(out);
    while (n > 0) {
      check_interrupted();
      const unsigned want = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
      int got = 0;
      {
        const BlockingCall blocking;  // a .gz that is a FIFO waits for its writer
        got = gzread(file_, p, want);
      }
      if (got < 0) {
        check_interrupted();  // gzread fails with EINTR when Ctrl-C arrives mid-read
        int err = 0;
        const char* msg = gzerror(file_, &err);
        SUBSET_FAIL(path_, "cannot decompress " << what << ": " << (msg ? msg : "read error"));
      }
      SUBSET_CHECK(got > 0, path_, "file is truncated while reading " << what);
      p += got;
      n -= static_cast<size_t>(got);
    }
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
};

}  // namespace

IdxArray read_idx_u8(const std::string& path) {
  GzFile in(path);
  unsigned char magic[4];
  in.read_exact(magic, 4, "the IDX header");
  SUBSET_CHECK(magic[0] == 0 && magic[1] == 0, path, "not an IDX file (bad magic number)");
  SUBSET_CHECK(magic[2] == 0x08, path,
               "IDX element type 0x" << std::hex << int(magic[2]) << " is not unsigned byte (0x08)");
  const int rank = magic[3];
  SUBSET_CHECK(rank >= 1 && rank <= 4, path, "IDX rank " << rank << " is not supported (1 to 4)");
  IdxArray out;
  uint64_t total = 1;
  for (int i = 0; i < rank; ++i) {
    unsigned char b[4];
    in.read_exact(b, 4, "the IDX dimensions");
    const uint32_t dim = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | uint32_t(b[3]);
    SUBSET_CHECK(dim > 0, path, "IDX dimension " << i << " is zero");
    out.shape.push_back(dim);
    SUBSET_CHECK(!__builtin_mul_overflow(total, uint64_t{dim}, &total) && total < (uint64_t{1} << 40), path,
                 "IDX array is implausibly large");
  }
  // The shape is only a claim (and a gzip'd file's size says nothing about it): memory grows with
  // the data actually read, so a lying header ends as "truncated", not as an allocation of the claim.
  constexpr uint64_t kStep = uint64_t{16} << 20;
  uint64_t got = 0;
  while (got < total) {
    const uint64_t step = std::min(kStep, total - got);
    out.data.resize(got + step);
    in.read_exact(out.data.data() + got, step, "the IDX data");
    got += step;
  }
  return out;
}

}  // namespace subset::io
