// `subset`: the command-line face of libsubset. Parses arguments, runs one subcommand, and turns
// every failure into one line on stderr and a non-zero exit status.
#include <CLI/CLI.hpp>
#include <iostream>
#include <new>

#include "libsubset/core/error.h"
#include "libsubset/core/interrupt.h"
#include "libsubset/core/params.h"
#include "libsubset/core/threads.h"
#include "libsubset/core/version.h"
#include "libsubset/io/atomic_output.h"
#include "tools/cli.h"

int main(int argc, char** argv) {
  using namespace subset;
  install_interrupt_handlers();

  CLI::App app{"subset: train on less data, and know what it cost and saved.\n"
               "Select, compress and condense datasets stored as HDF5 feature stores.",
               "subset"};
  app.set_version_flag("--version", std::string("subset ") + kVersion);
  app.require_subcommand(1);
  cli::GlobalOptions global;
  app.add_option("--threads", global.threads, "Threads for OpenMP, BLAS and libtorch (0 = all cores)")
      ->check(cli::non_negative_integer())
      ->capture_default_str();
  app.add_flag("-q,--quiet", global.quiet, "No progress lines on stderr (they are only drawn on a terminal anyway)");
  bool debug = false;
  app.add_flag("--debug", debug, "On an unexpected failure, print everything the library said (libtorch's backtrace)");

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = fold_into_one_line(e.what());
    // `subset frob`: CLI11 reports the missing subcommand, not the word it did not know.
    if (dynamic_cast<const CLI::RequiredError*>(&e) && app.get_subcommands().empty()) {
      const std::vector<std::string> rest = app.remaining();
      if (!rest.empty() && rest.front().rfind('-', 0) != 0) what = "unknown subcommand '" + rest.front() + "'";
    }
    std::cerr << "error: " << what << " (run `subset --help` for usage)\n";
    return 2;
  }

  try {
    set_threads(global.threads);
    global.meter = cli::resolve_meter_options(global);
    for (const auto& c : commands) {
      if (!c.app->parsed()) continue;
      // All outputs of the command appear together when it ends without an error, or none do.
      io::OutputTransaction outputs;
      const int status = c.run();
      outputs.commit();
      return status;
    }
    std::cerr << "error: no subcommand given (run `subset --help` for usage)\n";
    return 2;
  } catch (const ParamError& e) {
    // The library names its parameter ("budget"); here it is an option.
    std::cerr << format_error_line(Error(e.message(), "--" + e.parameter())) << "\n";
    return e.exit_code();
  } catch (const Error& e) {
    std::cerr << format_error_line(e) << "\n";
    return e.exit_code();
  } catch (const std::bad_alloc&) {
    std::cerr << "error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << format_unexpected_error_line(e, debug) << "\n";
    return 1;
  }
}
