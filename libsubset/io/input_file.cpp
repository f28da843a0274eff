#include "libsubset/io/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/io/atomic_output.h"

namespace subset::io {

void check_input_path(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) SUBSET_FAIL_FILE(path, err, "no such file");
    SUBSET_FAIL_FILE(path, err, "cannot open input: " << std::strerror(err));
  }
  if (S_ISDIR(st.st_mode)) SUBSET_FAIL_FILE(path, EISDIR, "input is a directory, not a file");
  note_input(path);
}

void check_regular_input_path(const std::string& path) {
  check_input_path(path);
  struct stat st;
  SUBSET_CHECK(stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode), path,
               "not a regular file (an HDF5 file cannot be read from a pipe or a device)");
}

InputFile::InputFile(std::string path) : path_(std::move(path)) {
  check_input_path(path_);
  do {
    const BlockingCall blocking;  // opening a FIFO waits for its writer
    if (interrupt_requested()) break;
    fd_ = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  } while (fd_ < 0 && errno == EINTR && !interrupt_requested());
  if (fd_ < 0) {
    check_interrupted();
    SUBSET_FAIL(path_, "cannot open input: " << std::strerror(errno));
  }
  struct stat st;
  if (fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) size_ = static_cast<int64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) close(fd_);
}

size_t InputFile::read_some(void* out, size_t n) {
  for (;;) {
    check_interrupted();
    ssize_t got = 0;
    {
      const BlockingCall blocking;
      got = read(fd_, out, n);
    }
    if (got >= 0) {
      position_ += static_cast<uint64_t>(got);
      return static_cast<size_t>(got);
    }
    if (errno == EINTR) {
      check_interrupted();
      continue;
    }
    SUBSET_FAIL(path_, "read failed: " << std::strerror(errno));
  }
}

void InputFile::read_exact(void* out, size_t n, const std::string& what) {
  auto* p = static_cast<char*>(out);
  while (n > 0) {
    const size_t got = read_some(p, n);
    SUBSET_CHECK(got > 0, path_, "file is truncated while reading " << what);
    p += got;
    n -= got;
  }
}

}  // namespace subset::io
