#pragma once
// The one exception type of libsubset. Every failure a user can cause is reported as an Error
// carrying *what* went wrong and *where* (a file, dataset, row, option); the CLI prints it as
// `error: <what> (<where>)` and exits non-zero.
#include <sstream>
#include <stdexcept>
#include <string>

namespace subset {

class Error : public std::runtime_error {
 public:
  explicit Error(std::string what, std::string where = {});

  const std::string& message() const noexcept { return what_; }
  const std::string& where() const noexcept { return where_; }
  // Process exit status the CLI should use (1 for ordinary errors, 130 after Ctrl-C).
  virtual int exit_code() const noexcept { return 1; }

 private:
  std::string what_;
  std::string where_;
};

// Raised when the user interrupts a run (SIGINT/SIGTERM/SIGHUP); outputs in progress are
// discarded. The exit status is the shell's for a death by that signal: 130 for SIGINT, 143 for
// SIGTERM.
class Interrupted : public Error {
 public:
  explicit Interrupted(int signo = 2 /* SIGINT */) : Error("interrupted"), signo_(signo > 0 ? signo : 2) {}
  int signal() const noexcept { return signo_; }
  int exit_code() const noexcept override { return 128 + signo_; }

 private:
  int signo_;
};

// A failure of the file system on a named path (missing, existing, not writable): `error_number`
// is the errno it amounts to (ENOENT, EEXIST, EACCES, ...), so a front-end can report it as its
// language's file error (Python's FileNotFoundError, FileExistsError, PermissionError).
class FileError : public Error {
 public:
  FileError(std::string what, std::string path, int error_number)
      : Error(std::move(what), std::move(path)), error_number_(error_number) {}
  int error_number() const noexcept { return error_number_; }

 private:
  int error_number_;
};

// `s` with line breaks turned into spaces and trailing spaces removed.
std::string fold_into_one_line(std::string s);

// "error: what (where)" — the single line the CLI prints.
std::string format_error_line(const Error& e);

// The line the CLI prints for a failure that is not an Error (libtorch, the C++ runtime):
// "error: internal error: " and the library's first line, without the backtrace libtorch appends
// after it ("Exception raised from ... frame #0 ..."); with `full`, all it said, folded into one line.
std::string format_unexpected_error_line(const std::exception& e, bool full);

}  // namespace subset

// SUBSET_CHECK(cond, where, message-stream): throws subset::Error when cond is false.
//   SUBSET_CHECK(n > 0, path, "store has " << n << " rows");
#define SUBSET_CHECK(cond, where, msg)                                \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::ostringstream subset_check_os_;                            \
      subset_check_os_ << msg;                                        \
      throw ::subset::Error(subset_check_os_.str(), (where));         \
    }                                                                 \
  } while (0)

#define SUBSET_FAIL(where, msg)                                       \
  do {                                                                \
    std::ostringstream subset_check_os_;                              \
    subset_check_os_ << msg;                                          \
    throw ::subset::Error(subset_check_os_.str(), (where));           \
  } while (0)

// SUBSET_FAIL_FILE(path, errno_value, message-stream): throws subset::FileError.
#define SUBSET_FAIL_FILE(path, error_number, msg)                      \
  do {                                                                \
    std::ostringstream subset_check_os_;                              \
    subset_check_os_ << msg;                                          \
    throw ::subset::FileError(subset_check_os_.str(), (path), (error_number)); \
  } while (0)
