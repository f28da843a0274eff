#pragma once
// Ctrl-C handling that never leaves a half-written output. The first SIGINT/SIGTERM only raises a
// flag: long-running loops poll it with check_interrupted(), which throws Interrupted, and the
// unwinding removes temporary outputs through their destructors. A second signal (the user insists)
// unlinks every registered temporary file from the handler and exits with status 130 at once.
#include <string>

namespace subset {

// Idempotent. Installed without SA_RESTART so that a blocking read() returns EINTR and the
// reader can poll the flag instead of waiting for input forever.
void install_interrupt_handlers();
bool interrupt_requested();
// Throws Interrupted if a signal arrived.
void check_interrupted();
// For tests: forget a pending interrupt.
void clear_interrupt();

// Paths unlinked by the handler on a second signal. Returns a slot (or -1 when the fixed table is
// full, in which case only the ordinary destructor path cleans up).
int register_temporary_file(const std::string& path);
void unregister_temporary_file(int slot);

}  // namespace subset
