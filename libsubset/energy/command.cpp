#include "libsubset/energy/command.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

#include "libsubset/core/process.h"

namespace subset::energy {

MeasuredCommand run_measured(const std::vector<std::string>& argv, const MeterOptions& options) {
  SUBSET_CHECK(!argv.empty() && !argv.front().empty(), "subset energy", "no command given after --");
  EnergyMeter meter(options);
  meter.start();
  pid_t pid = 0;
  const int rc = spawn_program(argv, pid);
  if (rc != 0) {
    const int status = (rc == ENOENT || rc == ENOTDIR) ? 127 : 126;
    throw CommandNotStarted(rc == ENOENT ? "command not found" : std::string("cannot run: ") + std::strerror(rc),
                            argv.front(), status);
  }
  struct rusage usage {};
  const int wstatus = wait_for_program(pid, &usage);
  ProcessUsage child;
  child.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                      1e-6 * static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
  child.peak_rss_bytes = static_cast<int64_t>(usage.ru_maxrss) * 1024;  // KiB on Linux
  MeasuredCommand out;
  out.report = meter.stop(child);
  out.exit_status = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  return out;
}

}  // namespace subset::energy
