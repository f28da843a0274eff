// `subset al init|label|pending|status|export` (and, from cmd_al_query.cpp, query|simulate): active-learning
// labelling projects (docs/active-learning.md).
#include <cstdio>
#include <iostream>
#include <sstream>

#include "libsubset/core/error.h"
#include "libsubset/workflows/al/answers.h"
#include "libsubset/workflows/al/export.h"
#include "libsubset/workflows/al/init.h"
#include "libsubset/workflows/al/ledger.h"
#include "libsubset/workflows/al/pending.h"
#include "tools/cli.h"
#include "tools/cmd_al_query.h"

namespace subset::cli {
namespace {

using workflows::al::Ledger;

std::string figure(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Command add_init(CLI::App& al, const GlobalOptions& global) {
  struct Options {
    workflows::al::InitJob job;
    std::string features, seed_out;
    int64_t classes = 0;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = al.add_subcommand("init", "Start a labelling project over a pool store");
  app->add_option("pool", o->job.pool, "The pool: a feature store (its labels, if any, are never read but by "
                                       "--seed-method balanced)")->required();
  app->add_option("-o,--output", o->job.output, "Project file to write (e.g. PROJECT.al)")->required();
  app->add_option("--features", o->features,
                  "What the strategies read: a dataset of the pool (/NAME) or a same-rows store of it (subset embed)");
  app->add_option("--seed-size", o->job.seed_size, "Rows of the cold-start seed (0: none; the first query is the seed)")
      ->check(non_negative_integer());
  app->add_option("--seed-method", o->job.seed_method, joined(workflows::al::seed_methods()) +
                                                            ": how the seed is chosen (balanced needs the pool's labels)");
  app->add_option("--seed-out", o->seed_out, "Also write the seed's rows for annotators (row,score CSV)");
  app->add_option("--seed", o->job.seed, "Seed of every random choice of the project")->check(seed_value())->capture_default_str();
  app->add_option("--classes", o->classes, "Number of classes when the pool names none (named 0, 1, ...)");
  app->add_option("--class-names", o->job.class_names, "Class names when the pool names none (a,b,c)")->delimiter(',');
  app->add_flag("--force", o->job.force, "Overwrite an existing project file");
  add_json_flag(*app, o->json);
  return {app, [o, app, &global]() {
            workflows::al::InitJob job = o->job;
            if (!o->features.empty()) {
              if (o->features.front() == '/') job.features_dataset = o->features;
              else job.features = o->features;
            }
            if (app->count("--classes")) job.classes = o->classes;
            if (!o->seed_out.empty()) job.seed_out = o->seed_out;
            job.meter = global.meter;
            const workflows::al::InitOutcome out = workflows::al::run_init(job);
            if (o->json) {
              std::cout << workflows::al::to_json(job, out).dump(2) << "\n";
              return 0;
            }
            std::cout << "project " << job.output << " over " << out.project.pool << " (" << out.project.pool_rows
                      << " rows, " << out.project.num_classes() << " classes)\n";
            if (out.seed)
              std::cout << "  seed: " << out.seed->rows.size() << " rows by " << out.seed->strategy
                        << ", pending as round 0" << (job.seed_out ? " (rows in " + *job.seed_out + ")" : std::string())
                        << "; record their labels with `subset al label`\n";
            else
              std::cout << "  no seed: the first `subset al query` proposes it\n";
            return 0;
          }};
}

Command add_label(CLI::App& al) {
  struct Options {
    std::string project, answers, source;
    bool unsolicited = false, json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = al.add_subcommand("label", "Record annotators' answers (row,label[,source] CSV)");
  app->add_option("project", o->project, "Project file")->required();
  app->add_option("--answers", o->answers, "CSV of row,label[,source] lines; labels by class name or id")->required();
  app->add_option("--source", o->source, "Who answered, for lines without a source column");
  app->add_flag("--unsolicited", o->unsolicited, "Accept answers for rows that no pending query proposed");
  add_json_flag(*app, o->json);
  return {app, [o]() {
            Ledger ledger = Ledger::open(o->project);
            workflows::al::AnswerBatch batch =
                workflows::al::read_answers(o->answers, ledger.project().class_names, o->source);
            batch.unsolicited = o->unsolicited;
            const workflows::al::ApplyOutcome out = ledger.apply_answers(batch);
            const workflows::al::Snapshot snap = ledger.snapshot();
            if (o->json) {
              std::cout << workflows::al::label_json(static_cast<int64_t>(batch.answers.size()), out, snap).dump(2)
                        << "\n";
              return 0;
            }
            std::cout << "accepted " << batch.answers.size() << " answers from " << o->answers << ": " << out.applied
                      << " new labels, " << out.relabels << " relabels, " << out.unchanged << " unchanged\n";
            if (out.relabels > 0)
              std::cout << "  " << out.relabels << " labelled rows got another label (the earlier answers are kept "
                        << "in the project's history)\n";
            std::cout << "  " << snap.labelled_rows.size() << " rows labelled, " << snap.pending_rows.size()
                      << " pending\n";
            return 0;
          }};
}

void print_status(const workflows::al::Status& s) {
  std::cout << "pool " << s.project.pool << " (" << s.project.pool_rows << " rows)\n";
  std::cout << "labelled " << s.labelled << ", pending " << s.pending << ", answers " << s.answers << " ("
            << s.relabels << " relabels), rounds " << s.rounds.size() << "\n";
  std::cout << "per class:";
  for (size_t c = 0; c < s.class_counts.size(); ++c) std::cout << " " << s.project.class_names[c] << "=" << s.class_counts[c];
  std::cout << "\n";
  if (!s.rounds.empty())
    std::cout << "round  strategy          proposed  answered  trained_on  test_acc  train_s  score_s  select_s  kWh\n";
  for (const auto& r : s.rounds) {
    char line[256];
    std::snprintf(line, sizeof line, "%5lld  %-16s  %8lld  %8lld  %10lld  %8s  %7s  %7s  %8s  %s\n",
                  static_cast<long long>(r.round), r.strategy.c_str(), static_cast<long long>(r.proposed),
                  static_cast<long long>(r.answered), static_cast<long long>(r.labelled_before),
                  r.proxy_test_accuracy ? figure(*r.proxy_test_accuracy).c_str() : "-",
                  figure(r.training.seconds).c_str(), figure(r.scoring.seconds).c_str(),
                  figure(r.selection.seconds).c_str(), figure(r.kwh).c_str());
    std::cout << line;
  }
  std::cout << "energy: " << figure(s.total_kwh) << " kWh in total\n";
}

Command add_status(CLI::App& al) {
  struct Options {
    std::string project;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = al.add_subcommand("status", "Rounds, labelled and pending rows, learning curve and energy");
  app->add_option("project", o->project, "Project file")->required();
  add_json_flag(*app, o->json);
  return {app, [o]() {
            const workflows::al::Status s = Ledger::open(o->project).status();
            if (o->json) std::cout << s.to_json().dump(2) << "\n";
            else print_status(s);
            return 0;
          }};
}

Command add_export(CLI::App& al) {
  struct Options {
    workflows::al::ExportJob job;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* app = al.add_subcommand("export", "Write the labelled rows as a feature store");
  app->add_option("project", o->job.project, "Project file")->required();
  app->add_option("-o,--output", o->job.output, "Store to write (.h5)")->required();
  app->add_flag("--force", o->job.force, "Overwrite an existing output");
  add_json_flag(*app, o->json);
  return {app, [o]() {
            const workflows::al::ExportOutcome out = workflows::al::run_export(o->job);
            if (o->json) {
              std::cout << workflows::al::to_json(o->job, out).dump(2) << "\n";
              return 0;
            }
            std::cout << "exported " << out.rows << " labelled rows -> " << o->job.output
                      << (out.test_split ? " (with the pool's test split)" : "") << "\n";
            return 0;
          }};
}

Command add_pending(CLI::App& al) {
  auto job = std::make_shared<workflows::al::PendingJob>();
  CLI::App* app = al.add_subcommand("pending", "Write the rows still waiting for a label (row,score,round CSV)");
  app->add_option("project", job->project, "Project file")->required();
  app->add_option("-o,--output", job->output, "CSV file to write")->required();
  app->add_flag("--force", job->force, "Overwrite an existing output");
  return {app, [job]() {
            const int64_t rows = workflows::al::write_pending(*job);
            std::cout << rows << " pending rows -> " << job->output << "\n";
            return 0;
          }};
}

}  // namespace

Command add_al_command(CLI::App& parent, const GlobalOptions& global) {
  CLI::App* al = parent.add_subcommand("al", "Active-learning labelling projects: init, query, label, pending, status, export");
  al->require_subcommand(1);
  auto commands = std::make_shared<std::vector<Command>>();
  commands->push_back(add_init(*al, global));
  for (Command& c : add_al_query_commands(*al, global)) commands->push_back(std::move(c));
  commands->push_back(add_label(*al));
  commands->push_back(add_status(*al));
  commands->push_back(add_export(*al));
  commands->push_back(add_pending(*al));
  for (const Command& c : *commands) c.app->fallthrough();
  return {al, [commands]() {
            for (const Command& c : *commands)
              if (c.app->parsed()) return c.run();
            SUBSET_FAIL("subset al", "no subcommand given (init, query, label, pending, status, export)");
          }};
}

}  // namespace subset::cli
