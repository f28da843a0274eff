// What `al query` declares and prints, torch-free (the CLI uses it before loading libtorch).
#include <cstdio>
#include <sstream>

#include "libsubset/workflows/al/query.h"
#include "libsubset/workflows/al/strategies.h"

namespace subset::workflows::al {
namespace {

nlohmann::json phase_json(const PhaseCost& p) { return {{"seconds", p.seconds}, {"kwh", p.kwh}}; }

}  // namespace

const SettingsSchema<QueryJob>& query_schema() {
  static const SettingsSchema<QueryJob> schema = SettingsSchema<QueryJob>("al query")
                                                     .field("strategy", &QueryJob::strategy, "How the batch is chosen")
                                                     .one_of(strategy_names())
                                                     .done();
  return schema;
}

nlohmann::json to_json(const QueryOutcome& o) {
  const QueryRecord& r = o.record;
  nlohmann::json j = {{"round", r.id},
                      {"strategy", r.strategy},
                      {"batch", r.batch},
                      {"rows", r.rows},
                      {"scores", r.scores},
                      {"labelled_before", r.labelled_before},
                      {"candidates", {{"eligible", o.eligible}, {"scored", o.scored}, {"subset", o.scored < o.eligible},
                                      {"by", o.candidates_by}}},
                      {"proxy_test_accuracy", nullptr},
                      {"phases", {{"training", phase_json(r.training)}, {"scoring", phase_json(r.scoring)},
                                  {"selection", phase_json(r.selection)}}},
                      {"output", o.output},
                      {"images", o.images.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.images)},
                      {"energy", r.energy}};
  if (r.proxy_test_accuracy) j["proxy_test_accuracy"] = *r.proxy_test_accuracy;
  return j;
}

std::string format_query(const QueryOutcome& o) {
  const QueryRecord& r = o.record;
  std::ostringstream s;
  char buf[160];
  s << "round " << r.id << ": " << r.rows.size() << " rows proposed by " << r.strategy << " (pending until labelled)\n";
  s << "candidates: " << o.scored << " scored";
  if (o.scored < o.eligible)
    s << (o.candidates_by == "neighbours" ? ", the nearest neighbours of the labelled rows among the "
                                          : ", a random subset of the ")
      << o.eligible << " unlabelled rows (--candidates)";
  s << "\nproxy: trained on " << r.labelled_before << " labelled rows";
  if (r.proxy_test_accuracy) {
    std::snprintf(buf, sizeof buf, ", test accuracy %.4f", *r.proxy_test_accuracy);
    s << buf;
  }
  std::snprintf(buf, sizeof buf, "\nphases: training %.2f s, scoring %.2f s, selection %.2f s\n", r.training.seconds,
                r.scoring.seconds, r.selection.seconds);
  s << buf << "wrote " << o.output << "\n";
  if (!o.images.empty()) s << "wrote " << o.image_files << " images to " << o.images << "\n";
  return s.str();
}

}  // namespace subset::workflows::al
