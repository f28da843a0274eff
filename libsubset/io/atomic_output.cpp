#include "libsubset/io/atomic_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"

namespace subset::io {
namespace {

std::string parent_dir(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

void check_output_path(const std::string& path, bool force) {
  SUBSET_CHECK(!path.empty() && path.back() != '/', path, "output path must name a file");
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    SUBSET_CHECK(!S_ISDIR(st.st_mode), path, "output path is a directory");
    SUBSET_CHECK(force, path, "output already exists (use --force to overwrite)");
  }
  const std::string dir = parent_dir(path);
  if (stat(dir.c_str(), &st) != 0)
    SUBSET_FAIL(dir, "output directory does not exist");
  SUBSET_CHECK(S_ISDIR(st.st_mode), dir, "output directory is not a directory");
}

AtomicOutput::AtomicOutput(std::string final_path, bool force) : final_path_(std::move(final_path)) {
  check_output_path(final_path_, force);
  const std::string dir = parent_dir(final_path_);
  // Hidden, and named after the output and this process, so a leftover after `kill -9` is obvious.
  const std::string stem = dir + "/." + base_name(final_path_) + ".partial-" + std::to_string(getpid());
  for (int attempt = 0;; ++attempt) {
    temp_path_ = attempt == 0 ? stem : stem + "-" + std::to_string(attempt);
    const int fd = open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      break;
    }
    if (errno == EEXIST && attempt < 100) continue;
    const int err = errno;
    temp_path_.clear();
    SUBSET_FAIL(dir, "output directory is not writable: " << std::strerror(err));
  }
  interrupt_slot_ = register_temporary_file(temp_path_);
}

AtomicOutput::~AtomicOutput() { discard(); }

void AtomicOutput::discard() {
  if (done_) return;
  done_ = true;
  if (!temp_path_.empty()) unlink(temp_path_.c_str());
  unregister_temporary_file(interrupt_slot_);
}

void AtomicOutput::commit() {
  SUBSET_CHECK(!done_, final_path_, "output already finalised");
  check_interrupted();  // a Ctrl-C that arrived during the last write still wins
  if (std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    const int err = errno;
    discard();
    SUBSET_FAIL(final_path_, "cannot move the finished output into place: " << std::strerror(err));
  }
  done_ = true;
  unregister_temporary_file(interrupt_slot_);
}

}  // namespace subset::io
