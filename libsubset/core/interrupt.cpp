#include "libsubset/core/interrupt.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "libsubset/core/error.h"

namespace subset {
namespace {

// Everything below may be touched from a signal handler: lock-free atomics and fixed storage only.
constexpr int kSlots = 32;
constexpr size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
std::atomic<bool> g_claimed[kSlots];  // owned by a registration (path may still be written)
std::atomic<bool> g_used[kSlots];     // path complete: may be unlinked on a second signal
std::atomic<int> g_signals{0};
std::atomic<int> g_first_signal{0};
std::atomic<pid_t> g_installed_in{0};  // the process that installed (a fork child must reinstall)
// The thread inside a BlockingCall, woken by wake_signal(); one at a time (the CLI reads its
// inputs on one thread).
pthread_t g_blocked_thread;
std::atomic<bool> g_blocked_thread_set{false};
// The wake-up handler runs on this stack, never on the one of the code it interrupts.
alignas(64) char g_alt_stack[256 * 1024];

constexpr int kHandled[] = {SIGINT, SIGTERM, SIGHUP};

int wake_signal() { return SIGRTMIN + 2; }

void on_signal(int signo) {
  if (g_signals.fetch_add(1) == 0) {
    g_first_signal.store(signo);
    // Interrupts a blocking system call (EINTR), so a read from a FIFO that nobody writes to
    // still notices the flag.
    if (g_blocked_thread_set.load()) pthread_kill(g_blocked_thread, wake_signal());
    return;
  }
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i].load()) unlink(g_paths[i]);
  _exit(128 + g_first_signal.load());
}

extern "C" void on_signal_in_stray_thread(int signo) { on_signal(signo); }
extern "C" void on_wake(int) {}

struct Watched {
  sigset_t set;
};

extern "C" void* wait_for_signals(void* arg) {
  const sigset_t set = static_cast<Watched*>(arg)->set;
  delete static_cast<Watched*>(arg);
  for (;;) {
    int signo = 0;
    if (sigwait(&set, &signo) == 0) on_signal(signo);
  }
  return nullptr;
}

bool ignored_at_start(int signo) {
  struct sigaction current;
  return sigaction(signo, nullptr, &current) == 0 && current.sa_handler == SIG_IGN;
}

}  // namespace

void install_interrupt_handlers() {
  const pid_t self = getpid();
  if (g_installed_in.exchange(self) == self) return;

  // A signal set to be ignored by whoever started us (nohup, a background job of a script) stays
  // ignored.
  Watched* watched = new Watched;
  sigemptyset(&watched->set);
  for (int signo : kHandled)
    if (!ignored_at_start(signo)) sigaddset(&watched->set, signo);
  pthread_sigmask(SIG_BLOCK, &watched->set, nullptr);

  stack_t alt;
  std::memset(&alt, 0, sizeof alt);
  alt.ss_sp = g_alt_stack;
  alt.ss_size = sizeof g_alt_stack;
  sigaltstack(&alt, nullptr);
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_wake;
  sa.sa_flags = SA_ONSTACK;  // and no SA_RESTART: the point is the EINTR
  sigaction(wake_signal(), &sa, nullptr);

  // Threads that existed before this call can still receive the signals; there the handler runs,
  // restarting whatever it interrupted.
  sa.sa_handler = on_signal_in_stray_thread;
  sa.sa_flags = SA_RESTART | SA_ONSTACK;
  sa.sa_mask = watched->set;
  for (int signo : kHandled)
    if (sigismember(&watched->set, signo)) sigaction(signo, &sa, nullptr);

  pthread_t thread;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&thread, &attr, wait_for_signals, watched) != 0) {
    delete watched;
    throw Error("cannot start the signal-handling thread");
  }
  pthread_attr_destroy(&attr);
}

BlockingCall::BlockingCall() {
  g_blocked_thread = pthread_self();
  g_blocked_thread_set.store(true);
}

BlockingCall::~BlockingCall() { g_blocked_thread_set.store(false); }

bool interrupt_requested() { return g_signals.load() > 0; }

int interrupt_signal() { return g_first_signal.load(); }

void check_interrupted() {
  if (interrupt_requested()) throw Interrupted(g_first_signal.load());
}

void clear_interrupt() {
  g_signals.store(0);
  g_first_signal.store(0);
}

void request_interrupt(int signo) {
  if (g_signals.fetch_add(1) == 0) g_first_signal.store(signo);
}

int register_temporary_file(const std::string& path) {
  if (path.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_claimed[i].compare_exchange_strong(expected, true)) continue;
    std::memcpy(g_paths[i], path.c_str(), path.size() + 1);
    g_used[i].store(true);
    return i;
  }
  return -1;
}

void unregister_temporary_file(int slot) {
  if (slot < 0 || slot >= kSlots) return;
  g_used[slot].store(false);
  g_claimed[slot].store(false);
}

}  // namespace subset
