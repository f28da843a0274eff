#include "libsubset/core/progress.h"

#include <unistd.h>

#include <cstdio>

namespace subset {

ProgressPrinter::ProgressPrinter(std::string label, bool enabled)
    : label_(std::move(label)),
      enabled_(enabled && isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

ProgressPrinter::~ProgressPrinter() {
  if (drawn_) std::fputc('\n', stderr);
}

void ProgressPrinter::update(int64_t done, int64_t total) {
  if (!enabled_ || total <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = static_cast<double>(done) / static_cast<double>(total);
  char left[48] = "";
  if (done > 0 && done < total)
    std::snprintf(left, sizeof left, ", about %.0f s left", elapsed * (1.0 - fraction) / fraction);
  std::fprintf(stderr, "\r%s %lld/%lld (%.0f%%), %.1f s%s\033[K", label_.c_str(), static_cast<long long>(done),
               static_cast<long long>(total), 100.0 * fraction, elapsed, left);
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace subset
