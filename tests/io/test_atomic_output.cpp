// Tests for libsubset/io/atomic_output.h: write under a temporary name, rename on commit.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/io/atomic_output.h"
#include "support/files.h"
#include "support/temp_dir.h"

using subset::io::AtomicOutput;
using subset::io::check_output_path;
using namespace subset::test;

TEST_CASE("AtomicOutput writes under a hidden temporary name and renames on commit") {
  TempDir dir;
  const std::string out = dir.file("out.h5");
  {
    AtomicOutput o(out, false);
    CHECK(o.final_path() == out);
    const std::string prefix = dir.file(".out.h5.partial-" + std::to_string(getpid()));
    CHECK(o.temp_path().rfind(prefix, 0) == 0);
    CHECK(path_exists(o.temp_path()));
    CHECK_FALSE(path_exists(out));
    write_bytes(o.temp_path(), "payload");
    o.commit();
    CHECK_FALSE(path_exists(o.temp_path()));
    CHECK_THROWS_WITH_AS(o.commit(), doctest::Contains("output already finalised"), subset::Error);
  }
  CHECK(read_bytes(out) == "payload");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});
}

TEST_CASE("an AtomicOutput destroyed or discarded without commit leaves nothing") {
  TempDir dir;
  const std::string out = dir.file("out.h5");
  {
    AtomicOutput o(out, false);
    write_bytes(o.temp_path(), "half written");
    CHECK(list_dir(dir.path()).size() == 1);
  }
  CHECK(list_dir(dir.path()).empty());
  {
    AtomicOutput o(out, false);
    o.discard();
    CHECK(list_dir(dir.path()).empty());
    o.discard();  // twice is harmless
  }
  CHECK(list_dir(dir.path()).empty());
}

TEST_CASE("two outputs to the same path in one process get distinct temporary names") {
  TempDir dir;
  AtomicOutput a(dir.file("x"), false);
  AtomicOutput b(dir.file("x"), false);
  CHECK(a.temp_path() != b.temp_path());
  CHECK(list_dir(dir.path()).size() == 2);
}

TEST_CASE("an existing output is refused without force and untouched, and replaced with force") {
  TempDir dir;
  const std::string out = dir.file("out.h5");
  write_bytes(out, "old contents");
  try {
    AtomicOutput o(out, false);
    FAIL("existing output accepted without force");
  } catch (const subset::Error& e) {
    CHECK(e.message() == "output already exists (use --force to overwrite)");
    CHECK(e.where() == out);
  }
  CHECK_THROWS_AS(check_output_path(out, false), subset::Error);
  CHECK(read_bytes(out) == "old contents");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});

  {
    AtomicOutput o(out, true);
    write_bytes(o.temp_path(), "new contents");
    CHECK(read_bytes(out) == "old contents");  // untouched until commit
    o.commit();
  }
  CHECK(read_bytes(out) == "new contents");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});

  {
    AtomicOutput o(out, true);  // forced, then abandoned: the old file stays
  }
  CHECK(read_bytes(out) == "new contents");
}

TEST_CASE("bad output paths are rejected before anything is created") {
  TempDir dir;
  auto expect = [&](const std::string& path, bool force, const std::string& message, const std::string& where) {
    CAPTURE(path);
    for (int via_class = 0; via_class < 2; ++via_class) {
      try {
        if (via_class) AtomicOutput o(path, force);
        else check_output_path(path, force);
        FAIL("accepted");
      } catch (const subset::Error& e) {
        CHECK(e.message().find(message) != std::string::npos);
        CHECK(e.where() == where);
      }
    }
  };
  const std::string sub = dir.file("sub");
  REQUIRE(mkdir(sub.c_str(), 0755) == 0);
  expect(sub, true, "output path is a directory", sub);
  expect(sub + "/", false, "output path must name a file", sub + "/");
  expect("", false, "output path must name a file", "");
  expect(dir.file("missing/out.h5"), false, "output directory does not exist", dir.file("missing"));
  write_bytes(dir.file("plain"), "x");
  expect(dir.file("plain/out.h5"), false, "output directory is not a directory", dir.file("plain"));
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"plain", "sub"});
  CHECK(list_dir(sub).empty());

  if (geteuid() != 0) {  // root writes anywhere
    REQUIRE(chmod(sub.c_str(), 0555) == 0);
    try {
      AtomicOutput o(sub + "/out.h5", false);
      FAIL("unwritable directory accepted");
    } catch (const subset::Error& e) {
      CHECK(e.message().find("output directory is not writable") != std::string::npos);
      CHECK(e.where() == sub);
    }
    chmod(sub.c_str(), 0755);
  }
  CHECK_NOTHROW(check_output_path(dir.file("fresh.h5"), false));
  CHECK_FALSE(path_exists(dir.file("fresh.h5")));
}

TEST_CASE("a pending Ctrl-C makes commit throw Interrupted and the output never appears") {
  subset::install_interrupt_handlers();
  subset::clear_interrupt();
  TempDir dir;
  const std::string out = dir.file("out.h5");
  {
    AtomicOutput o(out, false);
    write_bytes(o.temp_path(), "complete");
    REQUIRE(raise(SIGINT) == 0);
    bool interrupted = false;
    try {
      o.commit();
    } catch (const subset::Interrupted& e) {
      interrupted = true;
      CHECK(e.exit_code() == 130);
    }
    CHECK(interrupted);
    CHECK_FALSE(path_exists(out));
  }
  subset::clear_interrupt();
  CHECK(list_dir(dir.path()).empty());
}
