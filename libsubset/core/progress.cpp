#include "libsubset/core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <ostream>
#include <streambuf>

namespace subset {
namespace {

// One lock for every printer: they share stderr, and the live line is one for all.
std::mutex& progress_mutex() {
  static std::mutex m;
  return m;
}

ProgressPrinter* g_open = nullptr;  // the printer whose live line is drawn and not ended

// std::cout is tied to this stream while a live printer exists: every output operation on std::cout
// first flushes it, which ends an open live line, so a result printed meanwhile starts on a line of
// its own instead of after the progress text.
class LineEnderBuffer : public std::streambuf {
 protected:
  int sync() override {
    end_live_progress_line();
    return 0;
  }
};

struct Tie {
  LineEnderBuffer buffer;
  std::ostream stream{&buffer};
  std::ostream* previous = nullptr;
  int printers = 0;
};

Tie& tie_state() {
  static Tie* t = new Tie;  // never destroyed: std::cout may flush its tie during exit
  return *t;
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

constexpr double kLiveInterval = 0.1;  // live: at most 10 drawings a second
constexpr double kRateWindow = 20;     // seconds of counts behind the estimate of the time left
constexpr double kRateSpacing = 0.5;   // seconds between two kept counts

}  // namespace

std::string progress_duration(double seconds) {
  char text[32];
  if (!(seconds >= 0)) seconds = 0;
  if (seconds < 10) std::snprintf(text, sizeof text, "%.1f s", seconds);
  else if (seconds < 120) std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 7200) std::snprintf(text, sizeof text, "%.0f min", seconds / 60);
  else std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  return text;
}

ProgressOptions progress_options(bool enabled) {
  ProgressOptions o;
  if (!enabled) return o;
  o.mode = isatty(STDERR_FILENO) ? ProgressMode::live : ProgressMode::log;
  if (const char* text = std::getenv("SUBSET_PROGRESS_INTERVAL")) {
    char* end = nullptr;
    const double v = std::strtod(text, &end);
    if (end != text && *end == '\0' && std::isfinite(v) && v > 0) o.interval = v;
  }
  return o;
}

void end_live_progress_line() {
  std::lock_guard<std::mutex> lock(progress_mutex());
  if (g_open) g_open->end_line();
}

ProgressPrinter::ProgressPrinter(std::string label, bool enabled)
    : ProgressPrinter(std::move(label), progress_options(enabled)) {}

ProgressPrinter::ProgressPrinter(std::string label, ProgressOptions options)
    : label_(std::move(label)), options_(std::move(options)) {
  if (!options_.out) options_.mode = ProgressMode::off;
  start_ = now();
  if (options_.mode == ProgressMode::live) {
    std::lock_guard<std::mutex> lock(progress_mutex());
    Tie& tie = tie_state();
    if (tie.printers++ == 0) tie.previous = std::cout.tie(&tie.stream);
    registered_ = true;
  }
}

ProgressPrinter::~ProgressPrinter() {
  finish();
  if (registered_) {
    std::lock_guard<std::mutex> lock(progress_mutex());
    Tie& tie = tie_state();
    if (--tie.printers == 0) std::cout.tie(tie.previous);
  }
}

double ProgressPrinter::now() const { return options_.clock ? options_.clock() : steady_seconds(); }

void ProgressPrinter::update(int64_t done, int64_t total) {
  ProgressUpdate u;
  u.done = done;
  u.total = total;
  update(u);
}

void ProgressPrinter::update(const ProgressUpdate& u) {
  if (options_.mode == ProgressMode::off || u.total <= 0) return;
  std::lock_guard<std::mutex> lock(progress_mutex());
  const double t = now();
  if (!recent_.empty() && u.done < recent_.back().second) recent_.clear();  // a new count began
  if (recent_.empty() || t - recent_.back().first >= kRateSpacing) recent_.emplace_back(t, u.done);
  // Keep the newest count at least kRateWindow old, so that the kept ones span the window.
  while (recent_.size() > 1 && t - recent_[1].first >= kRateWindow) recent_.pop_front();
  count_ = u;
  latest_is_count_ = true;
  latest_shown_ = false;
  offer(t, u.done >= u.total);
}

void ProgressPrinter::status(const std::string& line) {
  if (options_.mode == ProgressMode::off) return;
  std::lock_guard<std::mutex> lock(progress_mutex());
  status_ = line;
  latest_is_count_ = false;
  latest_shown_ = false;
  offer(now(), false);
}

void ProgressPrinter::finish() {
  if (options_.mode == ProgressMode::off) return;
  std::lock_guard<std::mutex> lock(progress_mutex());
  offer(now(), true);
}

std::string ProgressPrinter::format(double t) const {
  if (!latest_is_count_) return label_.empty() ? status_ : label_ + ": " + status_;
  const ProgressUpdate& u = *count_;
  std::string text = label_;
  if (!u.what.empty()) text += (text.empty() ? "" : " ") + u.what;
  const double fraction = std::min(1.0, std::max(0.0, static_cast<double>(u.done) / static_cast<double>(u.total)));
  char figures[96];
  const double percent = std::floor(100.0 * fraction);  // 100% only when done
  if (!u.unit.empty()) {
    std::snprintf(figures, sizeof figures, "%s%lld/%s%lld %s (%.0f%%)", text.empty() ? "" : ", ",
                  static_cast<long long>(u.done), u.total_is_cap ? "at most " : "", static_cast<long long>(u.total),
                  u.unit.c_str(), percent);
  } else {
    // "kmeans 5%"; after a description, a comma: "full data, repeat 1/3: epoch 12/300, 2%".
    std::snprintf(figures, sizeof figures, "%s%s%.0f%%", text.empty() ? "" : (u.what.empty() ? " " : ", "),
                  u.total_is_cap && u.done < u.total ? "at least " : "", percent);
  }
  text += figures;
  const double elapsed = t - start_;
  text += ", " + progress_duration(elapsed);
  if (u.done > 0 && u.done < u.total) {
    double left = elapsed * (1.0 - fraction) / fraction;  // at the average rate since the start
    if (!recent_.empty() && t - recent_.front().first >= 1 && u.done > recent_.front().second)
      left = static_cast<double>(u.total - u.done) * (t - recent_.front().first) /
             static_cast<double>(u.done - recent_.front().second);
    text += std::string(u.total_is_cap ? ", at most about " : ", about ") + progress_duration(left) + " left";
  }
  return text;
}

// Under the lock. Shows the latest report now when the rule allows it; `final_state`: the work ended.
void ProgressPrinter::offer(double t, bool final_state) {
  const bool have = latest_is_count_ ? count_.has_value() : !status_.empty();
  if (options_.mode == ProgressMode::live) {
    if (have && !latest_shown_ && (final_state || !shown_any_ || t - last_shown_ >= kLiveInterval)) {
      emit("\r" + format(t) + "\033[K");
      line_open_ = true;
      g_open = this;
      shown_any_ = true;
      latest_shown_ = true;
      last_shown_ = t;
    }
    if (final_state) end_line();
  } else {  // log
    const bool due = t - start_ >= options_.interval && (!shown_any_ || t - last_shown_ >= options_.interval);
    if (have && !latest_shown_ && (due || (final_state && shown_any_))) {
      emit(format(t) + "\n");
      shown_any_ = true;
      latest_shown_ = true;
      last_shown_ = t;
    }
  }
  if (final_state) {
    // The work ended: what follows is new work, under the same rule (and its own first interval).
    shown_any_ = false;
    latest_shown_ = true;
    count_.reset();
    recent_.clear();
    status_.clear();
    start_ = t;
  }
}

void ProgressPrinter::emit(const std::string& text) {
  std::fputs(text.c_str(), options_.out);
  std::fflush(options_.out);
}

// Under the lock.
void ProgressPrinter::end_line() {
  if (line_open_) {
    std::fputc('\n', options_.out);
    std::fflush(options_.out);
    line_open_ = false;
  }
  if (g_open == this) g_open = nullptr;
}

ProgressSinks progress_sinks(std::string label, bool enabled) {
  return progress_sinks(std::move(label), progress_options(enabled));
}

ProgressSinks progress_sinks(std::string label, ProgressOptions options) {
  ProgressSinks s;
  if (options.mode == ProgressMode::off) return s;
  s.printer = std::make_shared<ProgressPrinter>(std::move(label), std::move(options));
  std::shared_ptr<ProgressPrinter> p = s.printer;
  s.status = [p](const std::string& line) { p->status(line); };
  s.counter = [p](int64_t done, int64_t total) { p->update(done, total); };
  s.progress = [p](const ProgressUpdate& u) { p->update(u); };
  return s;
}

}  // namespace subset
