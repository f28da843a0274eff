// `subset energy [--json] [-o FILE] -- CMD ARGS...`: runs any command under the energy meter and
// exits with its exit status.
#include <fstream>
#include <iostream>

#include "libsubset/core/error.h"
#include "libsubset/energy/command.h"
#include "libsubset/energy/report.h"
#include "libsubset/io/atomic_output.h"
#include "tools/cli.h"

namespace subset::cli {

Command add_energy_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    std::vector<std::string> command;
    std::string output;
    bool force = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand("energy", "Run a command and report the energy and carbon it cost");
  app->footer(
      "Usage: subset energy [options] -- CMD ARGS...\n"
      "The report follows the command's own output on stdout (or goes to --output), and subset exits\n"
      "with the command's exit status (128+N when signal N ended it; 127 when CMD is not found, 126 when\n"
      "it cannot be run). The energy options (--pue, --region, --carbon-intensity, --cpu-watts) apply.");
  app->add_option("command", o->command, "The command and its arguments, after --");
  app->add_option("-o,--output", o->output, "Write the report to this file instead of stdout");
  app->add_flag("--force", o->force, "Overwrite an existing --output file");
  add_json_flag(*app, o->json);
  return {app, [o, &global]() {
            SUBSET_CHECK(!o->command.empty(), "subset energy", "no command given: subset energy [options] -- CMD ARGS...");
            // Checked before the command runs, so a bad path does not cost a whole run.
            if (!o->output.empty()) io::check_output_path(o->output, o->force);
            const energy::MeasuredCommand run = energy::run_measured(o->command, global.meter);
            const std::string text = o->json ? energy::to_json(run.report).dump(2) + "\n" : energy::format_report(run.report);
            if (o->output.empty()) {
              std::cout << text << std::flush;
            } else {
              io::AtomicOutput out(o->output, o->force);
              std::ofstream f(out.temp_path());
              f << text;
              f.close();
              SUBSET_CHECK(f, o->output, "cannot write the report");
              out.commit();
            }
            return run.exit_status;
          }};
}

}  // namespace subset::cli
