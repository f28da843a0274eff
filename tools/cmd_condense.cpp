// `subset condense STORE --method dm|dc --ipc K -o SYN.h5`: synthesise K images per class.
#include <cstdio>
#include <iostream>

#include "libsubset/core/error.h"
#include "libsubset/energy/report.h"
#include "libsubset/workflows/condense.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"
#include "tools/param_options.h"

namespace subset::cli {

Command add_condense_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::CondenseJob job;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = parent.add_subcommand(
      "condense", "Synthesise a few images per class that train a network like the full data (DM, DC)");
  app->footer(
      "Methods:\n"
      "  dm   distribution matching: mean embeddings of real and synthetic images under random networks\n"
      "  dc   gradient matching: the network's gradients on real and synthetic images\n"
      "Zhao & Bilen's reference settings are the defaults (docs/methods/condensation.md).\n"
      "The output is a feature store (ipc x classes rows, labels, the source's test split). Evaluate it\n"
      "with `subset evaluate STORE --selection-store SYN.h5 --model convnet`.");
  app->add_option("store", o->job.store, "HDF5 feature store with /labels (images for --net convnet)")->required();
  // Every condensation parameter becomes an option, generated from its one declaration.
  auto params = std::make_shared<ParamOptions>(*app, std::vector<const ParamSchema*>{&condense_schema().schema()});
  app->add_option("--checkpoint-every", o->job.checkpoint_every, "Save the state every M iterations to OUTPUT.checkpoint.h5")
      ->check(non_negative_integer())->capture_default_str();
  app->add_flag("--resume", o->job.resume, "Continue from OUTPUT.checkpoint.h5 (same settings; --iterations may grow)");
  app->add_option("--seed", o->job.settings.seed, "Seed of the initialisation, networks, batches and augmentations")
      ->check(seed_value())->capture_default_str();
  app->add_option("-o,--output", o->job.output, "Synthetic store to write (.h5)")->required();
  app->add_flag("--force", o->job.force, "Overwrite an existing output (and replace an existing OUTPUT.checkpoint.h5)");
  add_json_flag(*app, o->json);
  return {app, [o, params, &global]() {
            workflows::CondenseJob job = o->job;
            const SettingsSchema<CondenseSettings>& schema = condense_schema();
            schema.set_all(job.settings, params->given());
            params->given(schema.schema(), job.settings.method);  // each applies to the method
            job.meter = global.meter;
            job.status = status_lines(global);  // the one rule: live on a terminal, every 5 s at most in a log
            const workflows::CondenseOutcome out = nn_workflows().condense(job);
            if (o->json) {
              std::cout << workflows::to_json(out).dump(2) << "\n";
              return 0;
            }
            const energy::EnergyReport energy = energy::report_from_json(out.energy);
            char loss[32];
            std::snprintf(loss, sizeof loss, "%.4g", out.final_loss);
            std::cout << "condensed " << job.store << " to " << out.rows << " images (" << out.classes << " classes x "
                      << job.settings.ipc << ") with " << out.settings["method"].get<std::string>() << ", "
                      << out.iterations_done << " iterations"
                      << (out.resumed_from ? " (resumed at " + std::to_string(out.resumed_from) + ")" : "")
                      << ", final loss " << loss << " -> " << out.output << "\n"
                      << energy::format_report(energy);
            return 0;
          }};
}

}  // namespace subset::cli
