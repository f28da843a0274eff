#pragma once
// Buffered reading of an input file (or pipe) that stays responsive to Ctrl-C: a read blocked on a
// slow pipe returns on the signal and the pending interrupt is raised as subset::Interrupted.
#include <cstddef>
#include <cstdint>
#include <string>

namespace subset::io {

class InputFile {
 public:
  // Throws Error for a missing file, a directory or an unreadable file, naming the path.
  explicit InputFile(std::string path);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  // Reads up to n bytes; returns 0 only at end of file.
  size_t read_some(void* out, size_t n);
  // Reads exactly n bytes or throws "truncated while reading <what>".
  void read_exact(void* out, size_t n, const std::string& what);
  // Bytes consumed so far.
  uint64_t position() const { return position_; }
  // Size of a regular file, or -1 for pipes and devices.
  int64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t size_ = -1;
  uint64_t position_ = 0;
};

// Throws the same errors InputFile would, without keeping the file open.
void check_input_path(const std::string& path);
// check_input_path, and also refuses anything but a regular file: HDF5 cannot read a pipe or a
// device, and opening a FIFO that has no writer would wait forever.
void check_regular_input_path(const std::string& path);

}  // namespace subset::io
