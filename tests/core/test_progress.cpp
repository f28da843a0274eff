// Tests for libsubset/core/progress.h: the one progress rule, on a hand-driven clock.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "libsubset/core/progress.h"

namespace {

// A printer writing to a temporary file on a clock the test moves.
struct Harness {
  double t = 100.0;  // any origin: the printer measures from its creation
  std::FILE* file = std::tmpfile();
  subset::ProgressOptions options(subset::ProgressMode mode, double interval = 5.0) {
    subset::ProgressOptions o;
    o.mode = mode;
    o.interval = interval;
    o.out = file;
    o.clock = [this] { return t; };
    return o;
  }
  std::string text() {
    std::fflush(file);
    std::rewind(file);
    std::string s;
    for (int c; (c = std::fgetc(file)) != EOF;) s += static_cast<char>(c);
    return s;
  }
  ~Harness() { std::fclose(file); }
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t nl; (nl = s.find('\n', from)) != std::string::npos; from = nl + 1) out.push_back(s.substr(from, nl - from));
  if (from < s.size()) out.push_back(s.substr(from));
  return out;
}

}  // namespace

TEST_CASE("log: nothing for work that ends within the first interval") {
  Harness h;
  {
    subset::ProgressPrinter p("kmeans", h.options(subset::ProgressMode::log));
    for (int i = 0; i <= 9; ++i) {
      h.t = 100.0 + 0.5 * i;  // 0 .. 4.5 s
      p.update(i, 10);
    }
    p.status("a phase line");
    h.t = 104.9;
    p.update(10, 10);  // done within 5 s
  }
  CHECK(h.text().empty());
}

TEST_CASE("log: at most one line per interval, then a final line") {
  Harness h;
  {
    subset::ProgressPrinter p("herding", h.options(subset::ProgressMode::log));
    // Updates every 0.25 s for 17 s: lines at 5, 10 and 15 s, the final one at the end.
    for (int i = 0; i <= 68; ++i) {
      h.t = 100.0 + 0.25 * i;
      p.update(i, 100);
    }
    h.t = 117.5;
    p.update(100, 100);
  }
  const std::string text = h.text();
  CHECK(text.find('\r') == std::string::npos);
  CHECK(text.find('\033') == std::string::npos);
  const std::vector<std::string> lines = lines_of(text);
  REQUIRE(lines.size() == 4);
  // At 5 s, 20 of 100 units were done: 20 %, and 5 s * 80/20 = 20 s left (hand-computed).
  CHECK(lines[0] == "herding 20%, 5.0 s, about 20 s left");
  CHECK(lines[1] == "herding 40%, 10 s, about 15 s left");
  CHECK(lines[2] == "herding 60%, 15 s, about 10 s left");
  CHECK(lines[3] == "herding 100%, 18 s");
}

TEST_CASE("the time left follows the rate of the last 20 s, not the average since the start") {
  Harness h;
  subset::ProgressPrinter p("kmeans", h.options(subset::ProgressMode::log, 10.0));
  // A cheap phase: 50 of 100 units in 10 s. Then the rest at a tenth of that speed: 1 unit every 2 s.
  for (int i = 0; i <= 50; ++i) {
    h.t = 100.0 + 0.2 * i;
    p.update(i, 100);
  }
  for (int i = 1; i <= 20; ++i) {
    h.t = 110.0 + 2.0 * i;
    p.update(50 + i, 100);
  }
  const std::vector<std::string> lines = lines_of(h.text());
  REQUIRE(lines.size() == 5);  // at 10, 20, 30, 40 and 50 s
  // At 10 s, uniform so far: 10 s * 50/50 = 10 s left.
  CHECK(lines[0] == "kmeans 50%, 10 s, about 10 s left");
  // At 40 s, 65 done; the last 20 s did 10 units (from 55 at 20 s): 35 units at 2 s each = 70 s left,
  // where the average since the start would say 40 s * 35/65 = 22 s.
  CHECK(lines[3] == "kmeans 65%, 40 s, about 70 s left");
  CHECK(lines[4] == "kmeans 70%, 50 s, about 60 s left");
}

TEST_CASE("log: status lines follow the same rule, the latest one shown, and finish prints the last") {
  Harness h;
  subset::ProgressPrinter p("", h.options(subset::ProgressMode::log, 2.0));
  p.status("one");
  h.t += 1.0;
  p.status("two");
  h.t += 1.5;  // 2.5 s: due
  p.status("three");
  h.t += 0.5;
  p.status("four");  // 0.5 s after "three": held back
  h.t += 0.5;
  p.status("five");
  CHECK(h.text() == "three\n");
  p.finish();
  CHECK(h.text() == "three\nfive\n");
  p.finish();  // nothing new
  CHECK(h.text() == "three\nfive\n");
}

TEST_CASE("log: the interval comes from SUBSET_PROGRESS_INTERVAL, bad values keep 5 s") {
  setenv("SUBSET_PROGRESS_INTERVAL", "0.5", 1);
  CHECK(subset::progress_options(true).interval == doctest::Approx(0.5));
  CHECK(subset::progress_options(true).mode != subset::ProgressMode::off);
  for (const char* bad : {"0", "-1", "abc", "2s", "nan", "inf", ""}) {
    setenv("SUBSET_PROGRESS_INTERVAL", bad, 1);
    CHECK(subset::progress_options(true).interval == doctest::Approx(5.0));
  }
  unsetenv("SUBSET_PROGRESS_INTERVAL");
  CHECK(subset::progress_options(true).interval == doctest::Approx(5.0));
  CHECK(subset::progress_options(false).mode == subset::ProgressMode::off);
}

TEST_CASE("live: redrawn in place at most 10 times a second, ended with a newline") {
  Harness h;
  {
    subset::ProgressPrinter p("kcenter", h.options(subset::ProgressMode::live));
    for (int i = 0; i < 100; ++i) {  // 100 updates within one second
      h.t = 100.0 + 0.01 * i;
      p.update(i, 1000);
    }
  }
  const std::string text = h.text();
  size_t draws = 0;
  for (char c : text) draws += c == '\r';
  CHECK(draws >= 2);
  CHECK(draws <= 11);  // the first, one per 0.1 s, and the latest at the end
  CHECK(text.front() == '\r');
  CHECK(text.back() == '\n');
  CHECK(lines_of(text).size() == 1);
  CHECK(text.find("kcenter 9%") != std::string::npos);  // the latest (99/1000) was drawn at the end
}

TEST_CASE("disabled: nothing at all") {
  Harness h;
  {
    subset::ProgressOptions o = h.options(subset::ProgressMode::off);
    subset::ProgressPrinter p("x", o);
    CHECK_FALSE(p.active());
    for (int i = 0; i <= 10; ++i) {
      h.t += 3;
      p.update(i, 10);
      p.status("phase");
    }
  }
  CHECK(h.text().empty());
  CHECK(subset::progress_sinks("x", false).status == nullptr);
}

TEST_CASE("figures: units, caps and durations") {
  Harness h;
  subset::ProgressPrinter p("", h.options(subset::ProgressMode::log, 1.0));
  h.t += 120;
  subset::ProgressUpdate u;
  u.done = 30;
  u.total = 900;
  u.unit = "epochs";
  u.what = "full data, repeat 1/3";
  u.total_is_cap = true;
  p.update(u);
  // 120 s for 30 of 900: 29 times as long again, 3480 s = 58 min; early stopping: "at most".
  CHECK(h.text() == "full data, repeat 1/3, 30/at most 900 epochs (3%), 2 min, at most about 58 min left\n");
  CHECK(subset::progress_duration(3.14) == "3.1 s");
  CHECK(subset::progress_duration(75) == "75 s");
  CHECK(subset::progress_duration(7300) == "2.0 h");
}

TEST_CASE("sinks share one printer, finished when the last callback goes") {
  Harness h;
  {
    subset::ProgressSinks s = subset::progress_sinks("", h.options(subset::ProgressMode::log, 1.0));
    REQUIRE(s.status);
    std::function<void(const std::string&)> status = s.status;
    s = {};
    h.t += 2;
    status("first");
    h.t += 0.5;
    status("second");  // held back
    CHECK(h.text() == "first\n");
  }
  CHECK(h.text() == "first\nsecond\n");
}
