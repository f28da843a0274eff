#include "libsubset/energy/command.h"

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace subset::energy {

MeasuredCommand run_measured(const std::vector<std::string>& argv, const MeterOptions& options) {
  SUBSET_CHECK(!argv.empty() && !argv.front().empty(), "subset energy", "no command given after --");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  EnergyMeter meter(options);
  meter.start();
  pid_t pid = 0;
  // posix_spawnp reports a missing or non-executable program as its return value (glibc uses
  // vfork+exec and passes the exec error back), so no half-started child has to be reaped.
  const int rc = posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ);
  if (rc != 0) {
    const int status = (rc == ENOENT || rc == ENOTDIR) ? 127 : 126;
    throw CommandNotStarted(rc == ENOENT ? "command not found" : std::string("cannot run: ") + std::strerror(rc),
                            argv.front(), status);
  }
  int wstatus = 0;
  struct rusage usage {};
  for (;;) {
    if (wait4(pid, &wstatus, 0, &usage) == pid) break;
    // EINTR: our own Ctrl-C flag was raised; the child got the signal too and will end by itself.
    SUBSET_CHECK(errno == EINTR, argv.front(), "waiting for the command failed: " << std::strerror(errno));
  }
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
