// `subset`: the command-line face of libsubset. Parses arguments, runs one subcommand, and turns
// every failure into one line on stderr and a non-zero exit status.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "libsubset/core/communicator.h"
#include "libsubset/core/memory.h"
#include "libsubset/core/edit_distance.h"
#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/params.h"
#include "libsubset/core/threads.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "tools/cli.h"
#include "tools/completion.h"
#include "tools/mpi_session.h"

namespace {

// For a parse error whose first unexpected argument is an option ("--budgt", "--budgt=5", "-z"):
// "unknown option --budgt; did you mean --budget?", the suggestion drawn from the options of the
// chosen subcommand and the global ones (which follow a subcommand too). nullopt for a stray
// positional argument, whose CLI11 message says it well enough.
std::optional<std::string> unknown_option_message(const CLI::App& app) {
  const std::vector<std::string> rest = app.remaining(true);
  if (rest.empty() || rest.front().size() < 2 || rest.front()[0] != '-') return std::nullopt;
  const std::string given = rest.front().substr(0, rest.front().find('='));
  // Long names only: every one-letter option is one edit away from any other ("-z": "-o"?).
  std::vector<std::string> names;
  auto add = [&](const CLI::App& a) {
    for (const CLI::Option* option : a.get_options())
      for (const std::string& n : option->get_lnames()) names.push_back("--" + n);
  };
  for (const CLI::App* sub : app.get_subcommands()) add(*sub);
  add(app);
  const std::optional<std::string> near = subset::nearest_name(given, names);
  return "unknown option " + given + (near ? "; did you mean " + *near + "?" : "");
}

// A failed command's one line and exit status. On several ranks one rank's failure must end all of
// them (the others may wait in a collective for it): rank 0 prints its line and ends the job; any
// other rank lets rank 0 go first, since most failures (a bad file, a bad value) strike every rank
// alike, and prints its own, named, only when it failed alone. Rank 0's abort can take seconds to
// reach the others on a loaded machine (a 2 s wait let a second line through in a test run), hence the
// long wait.
int fail(const std::string& line, int status) {
  const subset::Communicator& world = subset::world();
  if (!world.distributed()) {
    std::cerr << line << "\n";
    return status;
  }
  if (world.rank() != 0) {
    std::this_thread::sleep_for(std::chrono::seconds(10));
    std::cerr << "rank " << world.rank() << ": " << line << "\n";
  } else {
    std::cerr << line << "\n";
  }
  std::cerr.flush();
  world.abort(status);
  return status;  // not reached: abort ends the process (a virtual call's [[noreturn]] is not seen here)
}

// The subcommands that run under mpirun, every rank taking part: select, compress (the PCA fit and
// the apply pass), extract (reading the selected rows) and info (the --check-values scan; without
// it rank 0 describes alone).
bool runs_on_ranks(const std::string& command) {
  return command == "select" || command == "info" || command == "extract" || command == "compress";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace subset;
  install_interrupt_handlers();
  const std::shared_ptr<void> mpi = cli::start_mpi(argc, argv);
  const bool other_rank = world().rank() != 0;

  CLI::App app{"subset: train on less data, and know what it cost and saved.\n"
               "Select, compress and condense datasets stored as HDF5 feature stores.",
               "subset"};
  app.set_version_flag("--version", std::string("subset ") + kVersion);
  app.require_subcommand(1);
  cli::GlobalOptions global;
  app.add_option("--threads", global.threads, "Threads for OpenMP, BLAS and libtorch (0 = all cores)")
      ->check(cli::non_negative_integer())
      ->capture_default_str();
  app.add_flag("-q,--quiet", global.quiet, "No progress on stderr (otherwise a live line on a terminal, and in a log or pipe a line every 5 s at most, none for work done within 5 s)");
  app.add_flag("-v,--verbose", global.verbose,
               "More detail on stdout: the phases and where the time went, every figure the method reports, "
               "the files written");
  bool debug = false;
  app.add_flag("--debug", debug, "On an unexpected failure, print everything the library said (libtorch's backtrace)");

  // Thrown from its flag's callback, which CLI11 runs before it checks that a subcommand was given.
  struct CompletionRequested {};
  app.add_flag_callback("--bash-completion", [] { throw CompletionRequested{}; },
                        "Print the bash completion script and exit (installed with the binary)");

  cli::add_energy_options(app, global);

  const std::vector<cli::Command> commands = {
      cli::add_import_command(app, global),
      cli::add_info_command(app, global),
      cli::add_select_command(app, global),
      cli::add_extract_command(app, global),
      cli::add_energy_command(app, global),
      cli::add_evaluate_command(app, global),
      cli::add_bench_command(app, global),
      cli::add_compress_command(app, global),
      cli::add_condense_command(app, global),
      cli::add_embed_command(app, global),
      cli::add_al_command(app, global),
      cli::add_hpo_command(app, global),
  };
  // Global options may also follow the subcommand: `subset energy --region FR -- CMD`.
  for (const auto& c : commands) c.app->fallthrough();
  cli::name_free_text_values(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CompletionRequested&) {
    std::cout << cli::bash_completion_script(app);
    return 0;
  } catch (const CLI::ParseError& e) {
    std::string what = fold_into_one_line(e.what());
    // `subset frob`: CLI11 reports the missing subcommand, not the word it did not know.
    if (dynamic_cast<const CLI::RequiredError*>(&e) && app.get_subcommands().empty()) {
      const std::vector<std::string> rest = app.remaining();
      if (!rest.empty() && rest.front().rfind('-', 0) != 0) {
        std::vector<std::string> names;
        for (const auto& c : commands) names.push_back(c.app->get_name());
        what = "unknown subcommand '" + rest.front() + "'" + did_you_mean(rest.front(), names);
      }
    }
    // `subset select --budgt 5`: the nearest option of the chosen subcommand (or a global one). It
    // comes first: a mistyped required option (`--mehtod`) is otherwise reported as missing.
    if (dynamic_cast<const CLI::ExtrasError*>(&e) || dynamic_cast<const CLI::RequiredError*>(&e))
      if (const std::optional<std::string> unknown = unknown_option_message(app)) what = *unknown;
    // Every rank parsed the same words: rank 0 says it once.
    if (!other_rank) std::cerr << "error: " << what << " (run `subset --help` for usage)\n";
    return 2;
  }

  if (global.quiet && global.verbose) {
    std::cerr << "error: give -q/--quiet or -v/--verbose, not both\n";
    return 2;
  }
  try {
    set_threads(global.threads);
    global.meter = cli::resolve_meter_options(global);
    for (const auto& c : commands) {
      if (!c.app->parsed()) continue;
      if (world().distributed()) {
        SUBSET_CHECK(runs_on_ranks(c.app->get_name()), "mpirun",
                     "subset " << c.app->get_name() << " runs in one process; of the subcommands only select, "
                               "compress, extract and info run under mpirun");
        // Rank 0 speaks for the job: the other ranks print nothing but a failure of their own.
        if (other_rank) {
          global.quiet = true;
          global.verbose = false;
          SUBSET_CHECK(std::freopen("/dev/null", "w", stdout) != nullptr, "stdout", "cannot silence rank " << world().rank());
        }
      }
      // All outputs of the command appear together when it ends without an error, or none do.
      io::OutputTransaction outputs;
      const int status = c.run();
      outputs.commit();
      // On stderr, so that --json output stays one object: what --memory-limit is compared with.
      if (global.verbose) {
        char peak[48];
        std::snprintf(peak, sizeof peak, "%.1f MiB", peak_resident_bytes() / (1024.0 * 1024.0));
        std::cerr << "peak memory " << peak << " resident\n";
      }
      return status;
    }
    std::cerr << "error: no subcommand given (run `subset --help` for usage)\n";
    return 2;
  } catch (const ParamError& e) {
    // The library names its parameter ("budget"); here it is an option.
    return fail(format_error_line(Error(e.message(), "--" + e.parameter())), e.exit_code());
  } catch (const Error& e) {
    return fail(format_error_line(e), e.exit_code());
  } catch (const std::bad_alloc&) {
    return fail("error: out of memory", 1);
  } catch (const std::exception& e) {
    return fail(format_unexpected_error_line(e, debug), 1);
  }
}
