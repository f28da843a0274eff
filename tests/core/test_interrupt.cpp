// Tests for libsubset/core/interrupt.h. A second signal makes the handler _exit, so in this
// process only one signal is ever pending at a time (cleared in between); the second-signal path
// runs in a forked child.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
}  // namespace

TEST_CASE("one SIGINT raises the flag and check_interrupted throws Interrupted with exit code 130") {
  subset::install_interrupt_handlers();
  subset::install_interrupt_handlers();  // idempotent
  subset::clear_interrupt();
  CHECK_FALSE(subset::interrupt_requested());
  CHECK_NOTHROW(subset::check_interrupted());

  REQUIRE(raise(SIGINT) == 0);  // the process survives: the first signal only sets the flag
  CHECK(subset::interrupt_requested());
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

TEST_CASE("SIGTERM is handled like SIGINT") {
  subset::install_interrupt_handlers();
  subset::clear_interrupt();
  REQUIRE(raise(SIGTERM) == 0);
  CHECK(subset::interrupt_requested());
  CHECK_THROWS_AS(subset::check_interrupted(), subset::Interrupted);
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
    raise(SIGINT);
    raise(SIGINT);  // handler _exits(130) here
    _exit(3);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK_FALSE(exists(kept));
  CHECK(exists(dropped));  // unregistered files are not the handler's business
}
