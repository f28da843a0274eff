// `subset condense STORE --method dm|dc --ipc K -o SYN.h5`: synthesise K images per class.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <malloc.h>

#include "libsubset/core/error.h"
#include "libsubset/energy/report.h"
#include "libsubset/workflows/condense.h"
#include "tools/cli.h"
#include "tools/nn_plugin.h"

namespace subset::cli {
namespace {

// Condensation runs for minutes to days, often detached: its progress goes to stderr whether or
// not that is a terminal (unless --quiet), at most one iteration line every few seconds.
std::function<void(const std::string&)> throttled_progress(const GlobalOptions& global) {
  if (global.quiet) return nullptr;
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [last](const std::string& line) {
    const auto now = std::chrono::steady_clock::now();
    const bool iteration_line = line.find(" iteration ") != std::string::npos;
    if (iteration_line && now - *last < std::chrono::seconds(5)) return;
    if (iteration_line) *last = now;
    std::cerr << line << std::endl;
  };
}

// Every iteration allocates and frees tensors of megabytes (real batches, activations). Above
// glibc's default 128 KiB threshold each is a fresh mmap whose pages the kernel zeroes on first
// touch: 1.6 of 11.7 CPU seconds of 8 DM iterations at ipc 10 went to the kernel, 0.7 with this.
// Serving them from the heap and keeping freed memory there removes most of that cost.
void keep_large_allocations_in_the_heap() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's maximum on 64-bit
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace

Command add_condense_command(CLI::App& parent, const GlobalOptions& global) {
  struct Options {
    workflows::CondenseJob job;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  nn::CondenseSettings& s = o->job.settings;
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
  app->add_option("-m,--method", s.method, "dm or dc")->check(CLI::IsMember({"dm", "dc"}))->capture_default_str();
  app->add_option("--ipc", s.ipc, "Synthetic images per class")->check(positive_integer())->capture_default_str();
  app->add_option("--iterations", s.iterations, "Iterations (the reference: dm 20000, dc 1000)")
      ->check(non_negative_integer())->capture_default_str();
  app->add_option("--lr-img", s.lr_img, "Learning rate of the images (default: dm 1.0, dc 0.1)")
      ->check(positive_number());
  app->add_option("--init", s.init, "Start from random real images of each class, or noise")
      ->check(CLI::IsMember({"real", "noise"}))->capture_default_str();
  app->add_option("--net", s.net, "convnet (images) or mlp")->check(CLI::IsMember({"convnet", "mlp"}))->capture_default_str();
  app->add_option("--augment", s.augment, "none or dsa (default: dm dsa, dc none)")->check(CLI::IsMember({"none", "dsa"}));
  app->add_option("--batch-real", s.batch_real, "Real images per class per matching step")
      ->check(positive_integer())->capture_default_str();
  // Options of one method only: given with the other they would be silently ignored.
  const std::vector<CLI::Option*> dc_only = {
      app->add_option("--outer-loop", s.outer_loop, "dc: matching steps per iteration (default by ipc: 1->1, 10->10, 50->50)")
          ->check(positive_integer()),
      app->add_option("--inner-loop", s.inner_loop, "dc: network epochs between matching steps (default by ipc: 1->1, 10->50, 50->10)")
          ->check(positive_integer()),
      app->add_option("--lr-net", s.lr_net, "dc: learning rate of the network")->check(positive_number())->capture_default_str()};
  app->add_option("--checkpoint-every", o->job.checkpoint_every, "Save the state every M iterations to OUTPUT.checkpoint.h5")
      ->check(non_negative_integer())->capture_default_str();
  app->add_flag("--resume", o->job.resume, "Continue from OUTPUT.checkpoint.h5 (same settings; --iterations may grow)");
  app->add_option("--seed", s.seed, "Seed of the initialisation, networks, batches and augmentations")
      ->check(seed_value())->capture_default_str();
  app->add_option("--device", s.device, "cpu, or cuda with a CUDA build of libtorch")
      ->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app->add_option("-o,--output", o->job.output, "Synthetic store to write (.h5)")->required();
  app->add_flag("--force", o->job.force, "Overwrite an existing output (and replace an existing OUTPUT.checkpoint.h5)");
  add_json_flag(*app, o->json);
  return {app, [o, &global, dc_only]() {
            for (const CLI::Option* option : dc_only)
              SUBSET_CHECK(option->count() == 0 || o->job.settings.method == "dc", "condense --method " + o->job.settings.method,
                           option->get_name() << " applies to --method dc only");
            keep_large_allocations_in_the_heap();
            workflows::CondenseJob job = o->job;
            job.meter = global.meter;
            job.status = throttled_progress(global);
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
