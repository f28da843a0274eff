#pragma once
// Outputs are written under a temporary name next to the destination and renamed into place only
// when complete, so a failure, an exception or Ctrl-C never leaves a half-written file at the
// output path, and an existing file is untouched until the new one is whole.
#include <string>

namespace subset::io {

class AtomicOutput {
 public:
  // Validates before any work is done: refuses an existing output unless `force`, a missing or
  // non-directory parent, and a directory that cannot be written (proved by creating the
  // temporary file). Throws Error naming the path.
  AtomicOutput(std::string final_path, bool force);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  // Renames the temporary file to the final path (atomic on one filesystem).
  void commit();
  // Removes the temporary file now.
  void discard();

 private:
  std::string final_path_;
  std::string temp_path_;
  int interrupt_slot_ = -1;
  bool done_ = false;
};

// Checks that `path` could be written as an output (same rules as AtomicOutput) without creating
// anything; lets a command reject bad output paths before expensive work starts.
void check_output_path(const std::string& path, bool force);

}  // namespace subset::io
