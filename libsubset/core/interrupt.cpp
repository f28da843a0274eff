#include "libsubset/core/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "libsubset/core/error.h"

namespace subset {
namespace {

// The handler may only touch lock-free atomics and fixed storage (async-signal-safety).
constexpr int kSlots = 32;
constexpr size_t kPathMax = 4096;
char g_paths[kSlots][kPathMax];
std::atomic<bool> g_claimed[kSlots];  // owned by a registration (path may still be written)
std::atomic<bool> g_used[kSlots];     // path complete: the handler may unlink it
std::atomic<int> g_signals{0};
std::atomic<bool> g_installed{false};

extern "C" void on_interrupt(int signo) {
  if (g_signals.fetch_add(1) == 0) return;  // first one: let the program unwind cleanly
  for (int i = 0; i < kSlots; ++i)
    if (g_used[i].load()) unlink(g_paths[i]);
  _exit(128 + signo);
}

}  // namespace

void install_interrupt_handlers() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: see header
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() { return g_signals.load() > 0; }

void check_interrupted() {
  if (interrupt_requested()) throw Interrupted();
}

void clear_interrupt() { g_signals.store(0); }

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
