// Tests for libsubset/io/atomic_output.h: write under a temporary name, rename on commit.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
using subset::io::OutputTransaction;
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
    subset::request_interrupt(SIGINT);
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

TEST_CASE("without force, an output that appeared after the checks is kept and this run fails") {
  TempDir dir;
  const std::string out = dir.file("out.h5");
  AtomicOutput o(out, false);
  write_bytes(o.temp_path(), "ours");
  write_bytes(out, "another run's");  // created by a concurrent run after our checks
  try {
    o.commit();
    FAIL("replaced a file created meanwhile");
  } catch (const subset::Error& e) {
    CHECK(e.message().find("created by another run meanwhile") != std::string::npos);
    CHECK(e.where() == out);
  }
  CHECK(read_bytes(out) == "another run's");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"out.h5"});
}

TEST_CASE("a transaction stages finished outputs and puts them all in place on commit") {
  TempDir dir;
  const std::string a = dir.file("a.h5"), b = dir.file("b.h5");
  {
    OutputTransaction tx;
    AtomicOutput oa(a, false);
    write_bytes(oa.temp_path(), "A");
    oa.commit();
    CHECK_FALSE(path_exists(a));  // staged, not in place
    CHECK(subset::io::readable_path(a) == oa.temp_path());  // the command can read back what it wrote
    AtomicOutput ob(b, false);
    write_bytes(ob.temp_path(), "B");
    ob.commit();
    tx.commit();
  }
  CHECK(read_bytes(a) == "A");
  CHECK(read_bytes(b) == "B");
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"a.h5", "b.h5"});
}

TEST_CASE("a transaction that fails after its first output leaves none") {
  TempDir dir;
  const std::string a = dir.file("a.h5"), b = dir.file("b.h5");
  try {
    OutputTransaction tx;
    AtomicOutput oa(a, false);
    write_bytes(oa.temp_path(), "A");
    oa.commit();
    AtomicOutput ob(b, false);
    throw subset::Error("disk full while writing the second output", b);
  } catch (const subset::Error&) {
  }
  CHECK(list_dir(dir.path()).empty());

  // The second output lost a race at commit: the first, already placed by that commit, is taken back.
  {
    OutputTransaction tx;
    AtomicOutput oa(a, false);
    write_bytes(oa.temp_path(), "A");
    oa.commit();
    AtomicOutput ob(b, false);
    write_bytes(ob.temp_path(), "B");
    ob.commit();
    write_bytes(b, "another run's");
    CHECK_THROWS_WITH_AS(tx.commit(), doctest::Contains("created by another run meanwhile"), subset::Error);
  }
  CHECK(list_dir(dir.path()) == std::vector<std::string>{"b.h5"});
  CHECK(read_bytes(b) == "another run's");
}

TEST_CASE("an output that is an input or another output of the command is refused, whatever the spelling") {
  TempDir dir;
  const std::string store = dir.file("store.h5");
  write_bytes(store, "precious");
  REQUIRE(symlink(store.c_str(), dir.file("link.h5").c_str()) == 0);
  {
    OutputTransaction tx;
    subset::io::note_input(store);
    for (const std::string& spelling : {store, dir.file("link.h5"), dir.path().string() + "/./store.h5"}) {
      CAPTURE(spelling);
      CHECK_THROWS_WITH_AS(check_output_path(spelling, true), doctest::Contains("output is also an input"),
                           subset::Error);
      CHECK_THROWS_WITH_AS(AtomicOutput(spelling, true), doctest::Contains("output is also an input"), subset::Error);
    }
    AtomicOutput first(dir.file("out.h5"), false);
    CHECK_THROWS_WITH_AS(AtomicOutput(dir.path().string() + "/./out.h5", false), doctest::Contains("two outputs"),
                         subset::Error);
  }
  {
    OutputTransaction tx;  // the other order: the output was checked first
    check_output_path(store, true);
    CHECK_THROWS_WITH_AS(subset::io::note_input(dir.file("link.h5")), doctest::Contains("input is also an output"),
                         subset::Error);
  }
  CHECK(read_bytes(store) == "precious");
  CHECK_THROWS_WITH_AS(subset::io::check_distinct_outputs({{"-o", dir.file("x.h5")}, {"--indices-out", dir.path().string() + "/x.h5"}}),
                       doctest::Contains("--indices-out and -o name the same file"), subset::Error);
  CHECK_NOTHROW(subset::io::check_distinct_outputs({{"-o", dir.file("x.h5")}, {"--indices-out", dir.file("y.h5")}}));
}

TEST_CASE("partial files of dead runs are removed; those of live processes are kept") {
  TempDir dir;
  const pid_t dead = fork();
  REQUIRE(dead >= 0);
  if (dead == 0) _exit(0);
  int status = 0;
  REQUIRE(waitpid(dead, &status, 0) == dead);
  const std::string live = std::to_string(getppid());
  const std::string gone = std::to_string(dead);
  write_bytes(dir.file(".out.h5.partial-" + gone), "left by kill -9");
  write_bytes(dir.file(".out.h5.partial-" + gone + "-2"), "left by kill -9");
  REQUIRE(mkdir(dir.file(".out.h5.partial-" + gone + "-3").c_str(), 0755) == 0);
  write_bytes(dir.file(".out.h5.partial-" + live), "a run in progress");
  write_bytes(dir.file(".other.h5.partial-" + gone), "another output's");
  write_bytes(dir.file(".out.h5.partial-abc"), "not ours");
  {
    AtomicOutput o(dir.file("out.h5"), false);
  }
  CHECK(list_dir(dir.path()) ==
        std::vector<std::string>{".other.h5.partial-" + gone, ".out.h5.partial-" + live, ".out.h5.partial-abc"});
}

TEST_CASE("an output path too long for the system is named as such") {
  TempDir dir;
  CHECK_THROWS_WITH_AS(check_output_path(dir.file(std::string(300, 'a')), false),
                       doctest::Contains("name in the output path is too long"), subset::Error);
  std::string deep = dir.path().string();
  while (deep.size() < 4300) deep += "/" + std::string(200, 'b');
  CHECK_THROWS_WITH_AS(check_output_path(deep, false), doctest::Contains("output path is too long"), subset::Error);
}

TEST_CASE("actions after the commit run only once every output is in place") {
  TempDir dir;
  int ran = 0;
  subset::io::after_outputs_committed([&] { ++ran; });  // no transaction: at once
  CHECK(ran == 1);
  {
    OutputTransaction tx;
    AtomicOutput o(dir.file("a.h5"), false);
    write_bytes(o.temp_path(), "A");
    o.commit();
    subset::io::after_outputs_committed([&] {
      CHECK(path_exists(dir.file("a.h5")));
      ++ran;
    });
    CHECK(ran == 1);
    tx.commit();
  }
  CHECK(ran == 2);
  {
    OutputTransaction tx;  // a command that fails: never
    subset::io::after_outputs_committed([&] { ++ran; });
  }
  CHECK(ran == 2);
}
