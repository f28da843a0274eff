#pragma once
// Progress on stderr for work that can take more than a few seconds, one rule for every command:
//  - on a terminal, a live line redrawn in place at most 10 times a second
//    ("kmeans 5%, 3.1 s, about 60 s left"), ended when the work ends (or when something is written
//    to std::cout meanwhile, so that a result never lands on the progress line);
//  - elsewhere (a log, a pipe), plain lines, at most one every 5 seconds and none at all for work
//    that ends within the first 5 seconds (short runs and captured stderr stay clean), plus, if any
//    line was printed, a final one with the state at the end;
//  - disabled (--quiet): nothing.
// The interval of plain lines can be changed with the environment variable
// SUBSET_PROGRESS_INTERVAL (seconds, > 0), for tests and for logs that want more or fewer lines.
#include <cstdint>
#include <deque>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace subset {

// One report of long work: `done` of `total` units, the units weighted by their cost (so that the
// fraction done, and the estimate from it, hold when the phases differ in cost).
struct ProgressUpdate {
  int64_t done = 0;
  int64_t total = 0;
  std::string what;           // what is being done now ("full data, repeat 1/3: epoch 12/300"); may be empty
  std::string unit;           // set when done/total mean something to a user ("epochs"): they are shown too
  bool total_is_cap = false;  // the work may end before `total` (early stopping): the estimate is an upper bound
};
using ProgressFn = std::function<void(const ProgressUpdate&)>;

enum class ProgressMode { off, live, log };

struct ProgressOptions {
  ProgressMode mode = ProgressMode::off;
  double interval = 5.0;          // log mode: the least seconds between two lines, and before the first
  std::FILE* out = stderr;
  std::function<double()> clock;  // seconds on a monotonic clock; empty: std::chrono::steady_clock
};

// The rule above: off when !enabled, live when stderr is a terminal, log otherwise, with the
// interval of SUBSET_PROGRESS_INTERVAL when that is a number > 0 (else 5 s).
ProgressOptions progress_options(bool enabled);

// Ends the live line of whichever printer has one drawn (nothing otherwise). Done automatically
// before anything is written to std::cout while a live line is drawn (std::cout is tied to it).
void end_live_progress_line();

// One progress display. Thread-safe (every printer shares one lock: there is one stderr).
class ProgressPrinter {
 public:
  ProgressPrinter(std::string label, bool enabled);  // progress_options(enabled), on stderr
  ProgressPrinter(std::string label, ProgressOptions options);
  ~ProgressPrinter();  // finish()
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  // A counter of cost-weighted units: shown as a percentage ("kmeans 5%, ..."). done >= total ends
  // the work (the final line); later updates start again.
  void update(int64_t done, int64_t total);
  void update(const ProgressUpdate& update);
  // A phase or status line ("fitting pca on 1000 x 50"), shown under the same rule.
  void status(const std::string& line);
  // The work ended: the live line is ended, or the final plain line printed (if any was printed).
  void finish();
  bool active() const { return options_.mode != ProgressMode::off; }

 private:
  double now() const;
  std::string format(double t) const;
  void offer(double t, bool final_state);
  void emit(const std::string& text);
  void end_line();
  friend void end_live_progress_line();

  std::string label_;
  ProgressOptions options_;
  double start_ = 0;
  // The latest report, a count or a status line; shown now or, when the rule holds it back, later.
  std::optional<ProgressUpdate> count_;
  // Counts of the last kRateWindow seconds (progress.cpp), for the rate behind "about N s left": the
  // phases of a method rarely do a weighted unit at the same speed, so the recent rate predicts the
  // rest better than the average since the start (as tqdm's smoothing does).
  std::deque<std::pair<double, int64_t>> recent_;
  std::string status_;
  bool latest_is_count_ = false;
  bool latest_shown_ = true;
  double last_shown_ = 0;
  bool shown_any_ = false;   // a line (log) or a drawing (live) was shown since the work began
  bool line_open_ = false;   // live: a drawn line not yet ended
  bool registered_ = false;  // live: counted among the printers that keep std::cout tied
};

// Callbacks onto one printer shared by all of them: the work is finished (finish()) when the last
// copy of the last of them is destroyed. For jobs that take std::function callbacks.
struct ProgressSinks {
  std::function<void(const std::string&)> status;   // status lines
  std::function<void(int64_t, int64_t)> counter;     // (done, total) counters
  ProgressFn progress;                               // richer reports
  std::shared_ptr<ProgressPrinter> printer;          // null when disabled (the callbacks are then empty)
};
ProgressSinks progress_sinks(std::string label, bool enabled);
ProgressSinks progress_sinks(std::string label, ProgressOptions options);

// Seconds as progress lines write them: "8.0 s", "75 s", "12 min", "3.4 h".
std::string progress_duration(double seconds);

}  // namespace subset
