// Ledger::status(): what the project knows, read in one transaction, and its JSON form.
#include "libsubset/core/error.h"
#include "libsubset/workflows/al/internal/ledger_db.h"
#include "libsubset/workflows/al/ledger.h"

namespace subset::workflows::al {
namespace {

using internal::Db;
using internal::Stmt;

nlohmann::json phase_json(const PhaseCost& c) { return {{"seconds", c.seconds}, {"kwh", c.kwh}}; }

// The whole command's kWh from its recorded energy report; 0 when it has none.
double report_kwh(const std::string& text) {
  if (text.empty()) return 0;
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  return j.is_object() && j.contains("kwh") && j["kwh"].is_number() ? j["kwh"].get<double>() : 0.0;
}

}  // namespace

Status Ledger::status() const {
  Db& db = impl_->db;
  internal::Transaction t(db, false);
  Status s;
  s.project = impl_->info;
  s.labelled = internal::scalar(db, "SELECT COUNT(*) FROM labels");
  s.pending = internal::scalar(db, "SELECT COUNT(*) FROM proposals WHERE row NOT IN (SELECT row FROM labels)");
  s.relabels = internal::scalar(db, "SELECT COUNT(*) FROM answers WHERE relabel = 1");
  s.answers = internal::scalar(db, "SELECT COUNT(*) FROM answers");
  s.class_counts.assign(static_cast<size_t>(s.project.num_classes()), 0);
  {
    Stmt counts(db, "SELECT label, COUNT(*) FROM labels GROUP BY label");
    while (counts.step()) {
      const int64_t label = counts.int64(0);
      SUBSET_CHECK(label >= 0 && label < s.project.num_classes(), db.path(), "the project holds label " << label
                                                                                 << ", not a class id");
      s.class_counts[static_cast<size_t>(label)] = counts.int64(1);
    }
  }
  Stmt rounds(db,
              "SELECT q.id, q.strategy, q.labelled_before, q.proxy_test_accuracy, q.training_seconds, q.training_kwh, "
              "q.scoring_seconds, q.scoring_kwh, q.selection_seconds, q.selection_kwh, q.energy, q.created, "
              "(SELECT COUNT(*) FROM proposals p WHERE p.query = q.id), "
              "(SELECT COUNT(*) FROM proposals p JOIN labels l ON l.row = p.row WHERE p.query = q.id) "
              "FROM queries q ORDER BY q.id");
  while (rounds.step()) {
    RoundStatus r;
    r.round = rounds.int64(0);
    r.strategy = rounds.text(1);
    r.labelled_before = rounds.int64(2);
    if (!rounds.is_null(3)) r.proxy_test_accuracy = rounds.real(3);
    r.training = {rounds.real(4), rounds.real(5)};
    r.scoring = {rounds.real(6), rounds.real(7)};
    r.selection = {rounds.real(8), rounds.real(9)};
    r.kwh = report_kwh(rounds.text(10));
    r.created = rounds.text(11);
    r.proposed = rounds.int64(12);
    r.answered = rounds.int64(13);
    s.total_kwh += r.kwh;
    s.rounds.push_back(std::move(r));
  }
  t.commit();
  return s;
}

nlohmann::json Status::to_json() const {
  nlohmann::json rounds_json = nlohmann::json::array();
  for (const RoundStatus& r : rounds) {
    rounds_json.push_back({{"round", r.round},
                           {"strategy", r.strategy},
                           {"proposed", r.proposed},
                           {"answered", r.answered},
                           {"labelled_before", r.labelled_before},
                           {"proxy_test_accuracy", r.proxy_test_accuracy ? nlohmann::json(*r.proxy_test_accuracy)
                                                                         : nlohmann::json(nullptr)},
                           {"training", phase_json(r.training)},
                           {"scoring", phase_json(r.scoring)},
                           {"selection", phase_json(r.selection)},
                           {"kwh", r.kwh},
                           {"created", r.created}});
  }
  nlohmann::json classes = nlohmann::json::object();
  for (size_t c = 0; c < class_counts.size() && c < project.class_names.size(); ++c)
    classes[project.class_names[c]] = class_counts[c];
  return {{"pool", project.pool},
          {"pool_rows", project.pool_rows},
          {"features", project.features},
          {"features_dataset", project.features_dataset},
          {"class_names", project.class_names},
          {"seed", project.seed},
          {"created", project.created},
          {"labelled", labelled},
          {"pending", pending},
          {"relabels", relabels},
          {"answers", answers},
          {"class_counts", classes},
          {"rounds", rounds_json},
          {"total_kwh", total_kwh}};
}

}  // namespace subset::workflows::al
