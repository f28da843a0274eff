#include "libsubset/core/process.h"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"

extern char** environ;

namespace subset {

int spawn_program(const std::vector<std::string>& argv, pid_t& pid) {
  if (argv.empty() || argv.front().empty()) return ENOENT;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int signo : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction current;
    // A signal ignored by whoever started us stays ignored in the child, as a shell would do.
    if (sigaction(signo, nullptr, &current) == 0 && current.sa_handler != SIG_IGN) sigaddset(&defaults, signo);
  }
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  // posix_spawnp reports a missing or non-executable program as its return value (glibc uses
  // vfork+exec and passes the exec error back), so no half-started child has to be reaped.
  const int rc = posix_spawnp(&pid, args[0], nullptr, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  return rc;
}

int wait_for_program(pid_t pid, struct rusage* usage) {
  // From a terminal, Ctrl-C reaches the whole process group: the child has the signal already, and
  // a second copy would read as "the user insists". It is passed on only when the child has not
  // ended a moment later (a SIGTERM sent to us alone).
  constexpr int kGraceTicks = 50;  // x 20 ms
  int ticks_since_interrupt = -1;
  for (;;) {
    int status = 0;
    const bool passed_on = ticks_since_interrupt > kGraceTicks;
    const pid_t got = wait4(pid, &status, passed_on ? 0 : WNOHANG, usage);
    if (got == pid) return status;
    if (got < 0 && errno != EINTR) throw Error(std::string("waiting for the program failed: ") + std::strerror(errno));
    if (got != 0) continue;
    if (ticks_since_interrupt < 0 && interrupt_requested()) ticks_since_interrupt = 0;
    if (ticks_since_interrupt >= 0 && ++ticks_since_interrupt > kGraceTicks) kill(pid, interrupt_signal());
    usleep(20 * 1000);
  }
}

}  // namespace subset
