#pragma once
// Progress lines on stderr for work that can take more than a few seconds: "label 120/600 (20%),
// 3.1 s, about 12 s left", redrawn in place at most 10 times a second. Silent when stderr is not a
// terminal (logs and pipes stay clean) or when disabled (--quiet).
#include <chrono>
#include <cstdint>
#include <string>

namespace subset {

class ProgressPrinter {
 public:
  ProgressPrinter(std::string label, bool enabled);
  ~ProgressPrinter();  // ends the line if anything was drawn
  ProgressPrinter(const ProgressPrinter&) = delete;
  ProgressPrinter& operator=(const ProgressPrinter&) = delete;

  void update(int64_t done, int64_t total);
  bool active() const { return enabled_; }

 private:
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace subset
