#pragma once
// Outputs are written under a temporary name next to the destination and renamed into place only
// when complete, so a failure, an exception or Ctrl-C never leaves a half-written file at the
// output path, and an existing file is untouched until the new one is whole.
//
// While an OutputTransaction is open (the CLI opens one per command), finished outputs are staged
// rather than renamed, and all of them are put in place together by OutputTransaction::commit():
// a command that fails after writing its first output leaves none. The transaction also knows
// every input the command opened (check_input_path reports them) and refuses an output that is the
// same file as an input or as another output, by device and inode, whatever the spelling.
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace subset::io {

class AtomicOutput {
 public:
  // Validates before any work is done: refuses an existing output unless `force`, a missing or
  // non-directory parent, an output that is an input of the command, and a directory that cannot
  // be written (proved by creating the temporary file). Removes hidden partial files that earlier
  // runs, killed before they could clean up, left for the same output. Throws Error naming the path.
  AtomicOutput(std::string final_path, bool force);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& final_path() const { return final_path_; }
  const std::string& temp_path() const { return temp_path_; }
  // Puts the finished file in place: renamed now, or staged in the open transaction. Without
  // --force an output that another run created meanwhile is never replaced: that run wins, and
  // this one fails saying so.
  void commit();
  // Removes the temporary file now.
  void discard();

 private:
  std::string final_path_;
  std::string temp_path_;
  bool force_ = false;
  int interrupt_slot_ = -1;
  bool done_ = false;
};

// Checks that `path` could be written as an output (same rules as AtomicOutput) without creating
// anything; lets a command reject bad output paths before expensive work starts.
void check_output_path(const std::string& path, bool force);

// Checks, before any work, that no two of a command's outputs name the same file.
// `outputs` holds (option, path) pairs, e.g. {"-o", "a.h5"}, {"--indices-out", "a.h5"}.
void check_distinct_outputs(const std::vector<std::pair<std::string, std::string>>& outputs);

// Whether two existing paths name the same file (device and inode: links and other spellings
// count); false when either is missing.
bool same_file(const std::string& a, const std::string& b);

// Called for every input file a command opens (io/input_file.h does it): inside a transaction,
// an input that is also one of the command's outputs is refused.
void note_input(const std::string& path);

// The file to read for `path`: the staged temporary file when the open transaction holds a
// finished output for it (a command reading back what it wrote), else `path` itself.
std::string readable_path(const std::string& path);

// Runs `action` once the outputs of the open transaction are in place (at once when none is
// open); never when the command fails. For clean-up that must not happen before the result is
// safe, such as removing the checkpoint the result was resumed from.
void after_outputs_committed(std::function<void()> action);

// Removes `.NAME.partial-PID[-K]` siblings of `path` (files or directories) whose process is gone.
void remove_stale_partials(const std::string& path);

class OutputTransaction {
 public:
  // Becomes the open transaction of this thread; one opened while another is open stays inert and
  // leaves everything to the outer one.
  OutputTransaction();
  ~OutputTransaction();  // removes every staged output that was not committed
  OutputTransaction(const OutputTransaction&) = delete;
  OutputTransaction& operator=(const OutputTransaction&) = delete;

  // Puts every staged output in place. When one cannot be (another run created it meanwhile), the
  // ones already placed by this call are taken back, as far as they were new files, and Error is
  // thrown naming it.
  void commit();

  struct State;

 private:
  std::unique_ptr<State> state_;
};

// While alive, outputs of this thread are renamed into place at once and not compared with the
// command's inputs: for state that must survive a kill -9 mid-run, such as a checkpoint that the
// run itself reads back and replaces.
class ImmediateOutputs {
 public:
  ImmediateOutputs();
  ~ImmediateOutputs();
  ImmediateOutputs(const ImmediateOutputs&) = delete;
  ImmediateOutputs& operator=(const ImmediateOutputs&) = delete;

 private:
  void* saved_;
};

}  // namespace subset::io
