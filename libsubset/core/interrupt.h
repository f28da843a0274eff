#pragma once
// Ctrl-C and SIGTERM handling that never runs inside library code and never leaves a half-written
// output. install_interrupt_handlers() blocks SIGINT and SIGTERM in the calling thread (so in every
// thread it starts later: OpenMP, BLAS, libtorch) and receives them on one thread of its own with
// sigwait(). The first signal only raises a flag: long-running loops poll it with
// check_interrupted(), which throws Interrupted, and the unwinding removes temporary outputs
// through their destructors. A thread inside a BlockingCall (a read() of a FIFO nobody writes to)
// is woken by a private signal whose no-op handler makes the call fail with EINTR; no other code
// is ever interrupted, since a handler that runs in libtorch's or oneDNN's JIT kernels corrupts
// their stack. A second signal (the user insists) unlinks every registered temporary file and
// exits with 128 + signal at once.
#include <string>

namespace subset {

// Idempotent. Call it first thing in main(), before any thread is started: threads created
// earlier (OpenBLAS starts its pool while the program loads) keep the signals unblocked, so the
// same flag-raising logic is also installed as an ordinary async-signal-safe handler for them.
void install_interrupt_handlers();
bool interrupt_requested();
// The first signal received (SIGINT or SIGTERM), 0 when none.
int interrupt_signal();
// Throws Interrupted (exit status 128 + signal) if a signal arrived.
void check_interrupted();
// For tests: forget a pending interrupt.
void clear_interrupt();
// Raises the flag as the first signal would (for tests and for callers that cancel on their own).
void request_interrupt(int signo);

// Marks a system call that may block indefinitely: while alive, a first signal interrupts this
// thread's call (EINTR), so the caller can check_interrupted(). Nothing else may run in between.
class BlockingCall {
 public:
  BlockingCall();
  ~BlockingCall();
  BlockingCall(const BlockingCall&) = delete;
  BlockingCall& operator=(const BlockingCall&) = delete;
};

// Paths unlinked on a second signal. Returns a slot (or -1 when the fixed table is full, in which
// case only the ordinary destructor path cleans up).
int register_temporary_file(const std::string& path);
void unregister_temporary_file(int slot);

}  // namespace subset
