#pragma once
// Starting and waiting for another program. A child must not inherit what
// install_interrupt_handlers() did to this process (SIGINT/SIGTERM blocked), or Ctrl-C would no
// longer stop it; and a SIGTERM sent to us alone must reach it, or we would wait forever.
#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace subset {

// posix_spawnp with the default signal mask and dispositions restored in the child. Returns 0 and
// sets `pid`, or the error number (ENOENT for a program not found, EACCES, ...).
int spawn_program(const std::vector<std::string>& argv, pid_t& pid);

// Waits for the child and returns its wait status; `usage` (optional) receives its resource usage.
// When this process is interrupted meanwhile, the signal is passed on to the child once and the
// wait goes on, so the child's own clean-up finishes before we unwind.
int wait_for_program(pid_t pid, struct rusage* usage = nullptr);

}  // namespace subset
