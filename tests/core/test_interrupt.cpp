// Tests for libsubset/core/interrupt.h. A second signal makes the handler _exit, so in this
// process only one signal is ever pending at a time (cleared in between); the second-signal path
// runs in a forked child. Signals are sent to the process (kill), as a terminal or `kill` does:
// raise() would direct them at this thread, which keeps them blocked for the signal thread.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>

#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "support/temp_dir.h"

namespace {
bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Sends `signo` to this process and waits until the signal thread has taken it.
bool signal_self(int signo) {
  if (kill(getpid(), signo) != 0) return false;
  for (int i = 0; i < 2000 && !subset::interrupt_requested(); ++i) usleep(1000);
  return subset::interrupt_requested();
}
}  // namespace

TEST_CASE("one SIGINT raises the flag and check_interrupted throws Interrupted with exit code 130") {
  subset::install_interrupt_handlers();
  subset::install_interrupt_handlers();  // idempotent
  subset::clear_interrupt();
  CHECK_FALSE(subset::interrupt_requested());
  CHECK_NOTHROW(subset::check_interrupted());

  REQUIRE(signal_self(SIGINT));  // the process survives: the first signal only sets the flag
  CHECK(subset::interrupt_signal() == SIGINT);
  bool thrown = false;
  try {
    subset::check_interrupted();
  } catch (const subset::Interrupted& e) {
    thrown = true;
    CHECK(e.exit_code() == 130);
    CHECK(e.message() == "interrupted");
  }
  CHECK(thrown);
  // The flag stays up until cleared: every polling loop sees it.
  CHECK(subset::interrupt_requested());
  CHECK_THROWS_AS(subset::check_interrupted(), subset::Interrupted);

  subset::clear_interrupt();
  CHECK_FALSE(subset::interrupt_requested());
  CHECK_NOTHROW(subset::check_interrupted());
}

TEST_CASE("SIGTERM is handled like SIGINT, with the exit status of a death by SIGTERM") {
  subset::install_interrupt_handlers();
  subset::clear_interrupt();
  REQUIRE(signal_self(SIGTERM));
  try {
    subset::check_interrupted();
    FAIL("no Interrupted thrown");
  } catch (const subset::Interrupted& e) {
    CHECK(e.exit_code() == 143);
  }
  subset::clear_interrupt();
  CHECK_FALSE(subset::interrupt_requested());
}

TEST_CASE("temporary-file registration: slots are reused, the table is bounded") {
  std::vector<int> slots;
  for (int i = 0; i < 100; ++i) {
    const int slot = subset::register_temporary_file("/nonexistent/libsubset-test-" + std::to_string(i));
    if (slot < 0) break;
    slots.push_back(slot);
  }
  CHECK(!slots.empty());
  CHECK(slots.size() < 100);  // a fixed table: registration fails once it is full
  CHECK(subset::register_temporary_file("/nonexistent/one-more") == -1);
  for (size_t i = 0; i < slots.size(); ++i)
    for (size_t j = i + 1; j < slots.size(); ++j) CHECK(slots[i] != slots[j]);

  subset::unregister_temporary_file(slots.back());
  const int again = subset::register_temporary_file("/nonexistent/again");
  CHECK(again == slots.back());
  slots.back() = again;
  for (int s : slots) subset::unregister_temporary_file(s);
  subset::unregister_temporary_file(-1);    // harmless
  subset::unregister_temporary_file(1000);  // harmless

  CHECK(subset::register_temporary_file(std::string(5000, 'a')) == -1);  // too long to store
}

TEST_CASE("a second signal unlinks registered temporaries and exits with 128 + signal") {
  subset::test::TempDir dir;
  const std::string kept = dir.file("kept.partial");
  const std::string dropped = dir.file("unregistered.partial");
  for (const auto& p : {kept, dropped}) {
    const int fd = open(p.c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    close(fd);
  }
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // Child: only async-signal-safe work from here on, then _exit.
    subset::install_interrupt_handlers();
    subset::clear_interrupt();
    subset::register_temporary_file(kept);
    const int other = subset::register_temporary_file(dropped);
    subset::unregister_temporary_file(other);
    kill(getpid(), SIGINT);
    for (int i = 0; i < 2000 && !subset::interrupt_requested(); ++i) usleep(1000);
    kill(getpid(), SIGINT);  // the signal thread _exits(130) here
    for (int i = 0; i < 5000; ++i) usleep(1000);
    _exit(3);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK_FALSE(exists(kept));
  CHECK(exists(dropped));  // unregistered files are not the handler's business
}

TEST_CASE("signals are blocked in threads started after installation, and a BlockingCall is woken") {
  subset::install_interrupt_handlers();
  subset::clear_interrupt();
  sigset_t mask;
  REQUIRE(pthread_sigmask(SIG_BLOCK, nullptr, &mask) == 0);
  CHECK(sigismember(&mask, SIGINT) == 1);
  CHECK(sigismember(&mask, SIGTERM) == 1);

  // A thread inside a BlockingCall is woken out of a read that would block forever.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const pid_t parent = getpid();
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    usleep(100 * 1000);
    kill(parent, SIGINT);
    _exit(0);
  }
  char byte = 0;
  ssize_t got = 0;
  int err = 0;
  {
    const subset::BlockingCall blocking;
    got = read(fds[0], &byte, 1);
    err = errno;
  }
  CHECK(got == -1);
  CHECK(err == EINTR);
  CHECK(subset::interrupt_requested());
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  close(fds[1]);
  subset::clear_interrupt();
}

TEST_CASE("request_interrupt raises the flag like a first signal") {
  subset::clear_interrupt();
  subset::request_interrupt(SIGTERM);
  CHECK(subset::interrupt_signal() == SIGTERM);
  CHECK_THROWS_AS(subset::check_interrupted(), subset::Interrupted);
  subset::clear_interrupt();
  CHECK(subset::interrupt_signal() == 0);
}
