#include "libsubset/workflows/al/ledger.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "libsubset/core/error.h"
#include "libsubset/io/atomic_output.h"
#include "libsubset/workflows/al/internal/ledger_db.h"

namespace subset::workflows::al {
namespace {

using internal::Db;
using internal::Stmt;
using internal::Transaction;

constexpr const char* kFormatName = "subset-al-project";

// The schema of format version 1 (docs/format.md, "Active-learning projects").
constexpr const char* kSchema = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE queries(
  id INTEGER PRIMARY KEY, strategy TEXT NOT NULL, batch INTEGER NOT NULL, settings TEXT NOT NULL,
  labelled_before INTEGER NOT NULL, proxy_test_accuracy REAL,
  training_seconds REAL NOT NULL, training_kwh REAL NOT NULL, scoring_seconds REAL NOT NULL,
  scoring_kwh REAL NOT NULL, selection_seconds REAL NOT NULL, selection_kwh REAL NOT NULL,
  energy TEXT, created TEXT NOT NULL);
CREATE TABLE proposals(
  query INTEGER NOT NULL REFERENCES queries(id), position INTEGER NOT NULL, row INTEGER NOT NULL UNIQUE,
  score REAL, PRIMARY KEY(query, position));
CREATE TABLE answer_files(
  id INTEGER PRIMARY KEY, file TEXT NOT NULL, unsolicited INTEGER NOT NULL, applied INTEGER NOT NULL,
  relabels INTEGER NOT NULL, unchanged INTEGER NOT NULL, created TEXT NOT NULL);
CREATE TABLE answers(
  id INTEGER PRIMARY KEY, answer_file INTEGER NOT NULL REFERENCES answer_files(id), row INTEGER NOT NULL,
  label INTEGER NOT NULL, source TEXT NOT NULL, round INTEGER NOT NULL, relabel INTEGER NOT NULL,
  created TEXT NOT NULL);
CREATE INDEX answers_row ON answers(row);
CREATE TABLE labels(
  row INTEGER PRIMARY KEY, label INTEGER NOT NULL, round INTEGER NOT NULL, answer INTEGER NOT NULL REFERENCES answers(id));
)sql";

std::string now_utc() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec, static_cast<int>(ts.tv_nsec / 1000000));
  return buf;
}

nlohmann::json info_to_json(const ProjectInfo& p) {
  return {{"pool", p.pool},         {"pool_checksum", p.pool_checksum},       {"pool_rows", p.pool_rows},
          {"class_names", p.class_names}, {"features", p.features},       {"features_dataset", p.features_dataset},
          {"seed", p.seed},         {"settings", p.settings},                 {"created", p.created}};
}

ProjectInfo info_from_json(const nlohmann::json& j) {
  ProjectInfo p;
  j.at("pool").get_to(p.pool);
  j.at("pool_checksum").get_to(p.pool_checksum);
  j.at("pool_rows").get_to(p.pool_rows);
  j.at("class_names").get_to(p.class_names);
  j.at("features").get_to(p.features);
  j.at("features_dataset").get_to(p.features_dataset);
  j.at("seed").get_to(p.seed);
  p.settings = j.at("settings");
  j.at("created").get_to(p.created);
  return p;
}

void check_info(const ProjectInfo& p, const std::string& path) {
  SUBSET_CHECK(p.pool_rows > 0, path, "the pool has no rows");
  SUBSET_CHECK(!p.class_names.empty(), path, "a project needs at least one class");
  std::set<std::string> seen;
  for (const auto& name : p.class_names) {
    SUBSET_CHECK(!name.empty(), path, "a class name is empty");
    SUBSET_CHECK(seen.insert(name).second, path, "class name '" << name << "' is given twice");
  }
}

// The SQLite header says how many pages the file holds when its "valid-for" counter matches the
// change counter: a file shorter than that was cut off (a copy that stopped, a full disk), and
// would otherwise fail later, on whichever page is missing.
void check_header(const std::string& path) {
  struct stat st{};
  if (stat(path.c_str(), &st) != 0)
    SUBSET_FAIL(path, (errno == ENOENT ? "no such project file" : std::string("cannot open: ") + std::strerror(errno)));
  SUBSET_CHECK(S_ISREG(st.st_mode), path, "not an active-learning project (not a regular file)");
  std::ifstream in(path, std::ios::binary);
  SUBSET_CHECK(in, path, "cannot open: " << std::strerror(errno));
  unsigned char h[100] = {};
  in.read(reinterpret_cast<char*>(h), sizeof h);
  const bool sqlite = in.gcount() == sizeof h && std::memcmp(h, "SQLite format 3", 16) == 0;
  SUBSET_CHECK(sqlite, path, "not an active-learning project (not an SQLite database"
                                 << (in.gcount() < static_cast<std::streamsize>(sizeof h) ? ", or a truncated one" : "")
                                 << ")");
  auto be32 = [&h](int at) {
    return (uint32_t{h[at]} << 24) | (uint32_t{h[at + 1]} << 16) | (uint32_t{h[at + 2]} << 8) | uint32_t{h[at + 3]};
  };
  const uint32_t page_field = (uint32_t{h[16]} << 8) | h[17];
  const uint64_t page_size = page_field == 1 ? 65536 : page_field;
  const uint64_t pages = be32(28);
  // A checkpoint killed midway may leave the file short of its header while the log still holds
  // the missing pages, which opening replays: only a file without a log can be judged by size.
  struct stat log{};
  const bool has_log = stat((path + "-wal").c_str(), &log) == 0 && log.st_size > 0;
  if (!has_log && be32(24) == be32(92) && pages > 0)
    SUBSET_CHECK(static_cast<uint64_t>(st.st_size) >= pages * page_size, path,
                 "the project file is truncated (" << st.st_size << " bytes, its header says " << pages * page_size
                                                   << "); restore it from a copy");
}

int default_busy_timeout_ms() {
  const char* env = std::getenv("SUBSET_AL_BUSY_TIMEOUT_MS");
  if (env && *env && std::strspn(env, "0123456789") == std::strlen(env) && std::strlen(env) <= 9) return std::atoi(env);
  return 10000;
}

// A project in a directory this user cannot write, with no log beside it: SQLite cannot create
// the -shm a WAL reader needs, so it is read as immutable (status and export work; a write is
// refused as "cannot be written"). Nobody can be writing it then but another user, whose commit
// this reader might see torn: the price of reading a project one cannot write at all.
bool read_only_without_log(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (::access((dir.empty() ? "." : dir).c_str(), W_OK) == 0) return false;
  struct stat st{};
  return stat((path + "-wal").c_str(), &st) != 0 && stat((path + "-shm").c_str(), &st) != 0;
}

void bump_version(Db& db) { Stmt(db, "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'version'").run(); }

int64_t read_version(const Db& db) { return internal::scalar(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'version'"); }

void insert_query(Db& db, const QueryRecord& r, int64_t id) {
  Stmt q(db,
         "INSERT INTO queries(id, strategy, batch, settings, labelled_before, proxy_test_accuracy, training_seconds, "
         "training_kwh, scoring_seconds, scoring_kwh, selection_seconds, selection_kwh, energy, created) "
         "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  q.bind(1, id).bind(2, r.strategy).bind(3, r.batch).bind(4, r.settings.dump()).bind(5, r.labelled_before);
  q.bind(6, r.proxy_test_accuracy).bind(7, r.training.seconds).bind(8, r.training.kwh).bind(9, r.scoring.seconds);
  q.bind(10, r.scoring.kwh).bind(11, r.selection.seconds).bind(12, r.selection.kwh);
  if (r.energy.is_null()) q.bind_null(13);
  else q.bind(13, r.energy.dump());
  q.bind(14, r.created.empty() ? now_utc() : r.created);
  q.run();
  Stmt p(db, "INSERT INTO proposals(query, position, row, score) VALUES(?,?,?,?)");
  for (size_t i = 0; i < r.rows.size(); ++i) {
    p.bind(1, id).bind(2, static_cast<int64_t>(i)).bind(3, r.rows[i]);
    if (r.scores.empty()) p.bind_null(4);
    else p.bind(4, static_cast<double>(r.scores[i]));
    p.run();
  }
}

// Checks a query against the ledger as it stands (inside the writing transaction).
void check_query(const Db& db, const ProjectInfo& info, const QueryRecord& r) {
  const std::string& where = db.path();
  SUBSET_CHECK(!r.strategy.empty(), where, "a query needs its strategy's name");
  SUBSET_CHECK(r.batch >= 1 && static_cast<int64_t>(r.rows.size()) <= r.batch, where,
               "a query of batch " << r.batch << " cannot propose " << r.rows.size() << " rows");
  SUBSET_CHECK(r.scores.empty() || r.scores.size() == r.rows.size(), where,
               "a query has " << r.scores.size() << " scores for " << r.rows.size() << " rows");
  std::set<int64_t> seen;
  Stmt proposed(db, "SELECT 1 FROM proposals WHERE row = ? UNION ALL SELECT 1 FROM labels WHERE row = ?");
  for (int64_t row : r.rows) {
    SUBSET_CHECK(row >= 0 && row < info.pool_rows, where,
                 "row " << row << " is not a row of the pool (" << info.pool_rows << " rows)");
    SUBSET_CHECK(seen.insert(row).second, where, "row " << row << " is proposed twice in one query");
    const bool taken = proposed.bind(1, row).bind(2, row).step();
    proposed.reset();
    SUBSET_CHECK(!taken, where, "row " << row << " is already labelled or pending");
  }
}

std::string answer_where(const AnswerBatch& batch, size_t i, const std::string& project) {
  if (batch.file.empty()) return project;
  return i < batch.lines.size() ? batch.file + ":" + std::to_string(batch.lines[i]) : batch.file;
}

// Where each answer goes, decided before anything is written.
struct Planned {
  size_t index = 0;
  int64_t round = 0;
  enum Kind { New, Relabel, Unchanged } kind = New;
};

std::vector<Planned> plan_answers(const Db& db, const ProjectInfo& info, const AnswerBatch& batch) {
  const int64_t latest_round = std::max<int64_t>(0, internal::scalar(db, "SELECT COUNT(*) FROM queries") - 1);
  std::map<int64_t, size_t> first;  // row -> first answer for it in this batch
  std::vector<Planned> plan;
  Stmt labelled(db, "SELECT label FROM labels WHERE row = ?");
  Stmt proposed(db, "SELECT query FROM proposals WHERE row = ?");
  for (size_t i = 0; i < batch.answers.size(); ++i) {
    const Answer& a = batch.answers[i];
    const std::string where = answer_where(batch, i, db.path());
    SUBSET_CHECK(a.row >= 0 && a.row < info.pool_rows, where,
                 "row " << a.row << " is not a row of the pool (" << info.pool_rows << " rows, 0 to "
                        << info.pool_rows - 1 << ")");
    SUBSET_CHECK(a.label >= 0 && a.label < info.num_classes(), where,
                 "label " << a.label << " of row " << a.row << " is not a class id (0 to " << info.num_classes() - 1
                          << ")");
    const auto [it, fresh] = first.emplace(a.row, i);
    if (!fresh) {
      const Answer& earlier = batch.answers[it->second];
      SUBSET_CHECK(earlier.label == a.label, where,
                   "conflicting answers for row " << a.row << ": " << info.class_names[earlier.label] << " ("
                                                  << answer_where(batch, it->second, db.path()) << ") and "
                                                  << info.class_names[a.label] << "; nothing was applied");
      continue;
    }
    Planned p;
    p.index = i;
    if (labelled.bind(1, a.row).step()) {
      p.kind = labelled.int64(0) == a.label ? Planned::Unchanged : Planned::Relabel;
    } else if (proposed.bind(1, a.row).step()) {
      p.round = proposed.int64(0);
    } else {
      SUBSET_CHECK(batch.unsolicited, where,
                   "row " << a.row << " is not in a pending query (give --unsolicited to accept answers for rows "
                          << "no query proposed); nothing was applied");
      p.round = latest_round;
    }
    labelled.reset();
    proposed.reset();
    plan.push_back(p);
  }
  return plan;
}

}  // namespace

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ledger::Ledger(Ledger&&) noexcept = default;
Ledger& Ledger::operator=(Ledger&&) noexcept = default;
Ledger::~Ledger() = default;

Ledger Ledger::create(const std::string& path, const ProjectInfo& info, bool force, const QueryRecord* seed) {
  check_info(info, path);
  ProjectInfo stored = info;
  if (stored.created.empty()) stored.created = now_utc();
  io::AtomicOutput output(path, force);
  {
    // Built in rollback-journal mode: the temporary file is the only one, and it is discarded
    // whole when anything fails. WAL from the moment it has its final name.
    Db db(output.temp_path(), true, 10000);
    db.exec("PRAGMA journal_mode = DELETE");
    db.exec("PRAGMA synchronous = FULL");
    {
      Transaction t(db, true);
      db.exec(kSchema);
      Stmt meta(db, "INSERT INTO meta(key, value) VALUES(?, ?)");
      for (const auto& [key, value] : std::vector<std::pair<std::string, std::string>>{
               {"format", kFormatName},
               {"format_version", std::to_string(kLedgerFormatVersion)},
               {"version", "0"},
               {"project", info_to_json(stored).dump()}}) {
        meta.bind(1, key).bind(2, value);
        meta.run();
      }
      if (seed) {
        check_query(db, stored, *seed);
        insert_query(db, *seed, 0);
        bump_version(db);
      }
      t.commit();
    }
    db.exec("PRAGMA journal_mode = WAL");
    db.close();
  }
  // A write-ahead log left by the project this one replaces would be replayed onto it.
  for (const char* suffix : {"-wal", "-shm"}) ::unlink((path + suffix).c_str());
  {
    io::ImmediateOutputs now;  // SQLite names its log after the path: the file must have its final name
    output.commit();
  }
  return open(path);
}

Ledger Ledger::open(const std::string& path, int busy_timeout_ms) {
  check_header(path);
  auto impl = std::make_unique<Impl>();
  const bool read_only = read_only_without_log(path);
  impl->read_only = read_only;
  impl->db = Db(path, false, busy_timeout_ms >= 0 ? busy_timeout_ms : default_busy_timeout_ms(), read_only);
  Db& db = impl->db;
  if (!read_only) {
    db.exec("PRAGMA synchronous = FULL");
    std::string mode;
    {
      Stmt s(db, "PRAGMA journal_mode");
      if (s.step()) mode = s.text(0);
    }
    if (mode != "wal") db.exec("PRAGMA journal_mode = WAL");
  }
  const bool has_meta = internal::scalar(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'") > 0;
  SUBSET_CHECK(has_meta, path, "not an active-learning project (an SQLite database without its tables)");
  std::map<std::string, std::string> meta;
  {
    Stmt s(db, "SELECT key, value FROM meta");
    while (s.step()) meta[s.text(0)] = s.text(1);
  }
  SUBSET_CHECK(meta["format"] == kFormatName, path, "not an active-learning project (format '" << meta["format"] << "')");
  const int version = std::atoi(meta["format_version"].c_str());
  SUBSET_CHECK(version >= 1 && version <= kLedgerFormatVersion, path,
               "project format version " << meta["format_version"] << " is not one this libsubset reads (1 to "
                                         << kLedgerFormatVersion << "): made by a newer version?");
  try {
    impl->info = info_from_json(nlohmann::json::parse(meta["project"]));
  } catch (const nlohmann::json::exception& e) {
    SUBSET_FAIL(path, "the project's description is damaged: " << e.what());
  }
  return Ledger(std::move(impl));
}

const ProjectInfo& Ledger::project() const { return impl_->info; }

Ledger::Durability Ledger::durability() const {
  Durability d;
  Stmt mode(impl_->db, "PRAGMA journal_mode");
  if (mode.step()) d.journal_mode = mode.text(0);
  d.synchronous = internal::scalar(impl_->db, "PRAGMA synchronous");
  return d;
}

Snapshot Ledger::snapshot() const {
  Db& db = impl_->db;
  Transaction t(db, false);
  Snapshot s;
  s.version = read_version(db);
  s.rounds = internal::scalar(db, "SELECT COUNT(*) FROM queries");
  Stmt labels(db, "SELECT row, label, round FROM labels ORDER BY row");
  while (labels.step()) {
    s.labelled_rows.push_back(labels.int64(0));
    s.labels.push_back(labels.int64(1));
    s.label_rounds.push_back(labels.int64(2));
  }
  Stmt pending(db, "SELECT row FROM proposals WHERE row NOT IN (SELECT row FROM labels) ORDER BY row");
  while (pending.step()) s.pending_rows.push_back(pending.int64(0));
  t.commit();
  return s;
}

std::vector<PendingRow> Ledger::pending() const {
  Db& db = impl_->db;
  Transaction t(db, false);
  std::vector<PendingRow> out;
  Stmt s(db,
         "SELECT row, query, score FROM proposals WHERE row NOT IN (SELECT row FROM labels) ORDER BY query, position");
  while (s.step()) {
    PendingRow p{s.int64(0), s.int64(1), std::nullopt};
    if (!s.is_null(2)) p.score = s.real(2);
    out.push_back(p);
  }
  t.commit();
  return out;
}

bool Ledger::writable() const { return !impl_->read_only && ::access(impl_->db.path().c_str(), W_OK) == 0; }

int64_t Ledger::record_query(QueryRecord record, int64_t expected_version) {
  Db& db = impl_->db;
  Transaction t(db, true);
  const int64_t version = read_version(db);
  SUBSET_CHECK(version == expected_version, db.path(),
               "the project changed while this query was computed (another query or answers were recorded); "
               "nothing was written: run the query again");
  check_query(db, impl_->info, record);
  record.id = internal::scalar(db, "SELECT COUNT(*) FROM queries");
  insert_query(db, record, record.id);
  bump_version(db);
  t.commit();
  return record.id;
}

ApplyOutcome Ledger::apply_answers(const AnswerBatch& batch) {
  Db& db = impl_->db;
  const ProjectInfo& info = impl_->info;
  SUBSET_CHECK(batch.lines.empty() || batch.lines.size() == batch.answers.size(), db.path(),
               "answer lines do not match the answers");
  Transaction t(db, true);
  const std::vector<Planned> plan = plan_answers(db, info, batch);
  ApplyOutcome out;
  for (const Planned& p : plan) {
    if (p.kind == Planned::New) ++out.applied;
    if (p.kind == Planned::Relabel) ++out.relabels;
  }
  out.unchanged = static_cast<int64_t>(batch.answers.size()) - out.applied - out.relabels;
  if (out.applied + out.relabels == 0) return out;  // the same answers again: nothing to write

  const std::string created = now_utc();
  Stmt file(db, "INSERT INTO answer_files(file, unsolicited, applied, relabels, unchanged, created) VALUES(?,?,?,?,?,?)");
  file.bind(1, batch.file).bind(2, int64_t{batch.unsolicited}).bind(3, out.applied).bind(4, out.relabels);
  file.bind(5, out.unchanged).bind(6, created);
  file.run();
  const int64_t file_id = sqlite3_last_insert_rowid(db.get());
  Stmt answer(db, "INSERT INTO answers(answer_file, row, label, source, round, relabel, created) VALUES(?,?,?,?,?,?,?)");
  Stmt label(db, "INSERT INTO labels(row, label, round, answer) VALUES(?,?,?,?)");
  Stmt relabel(db, "UPDATE labels SET label = ?, answer = ? WHERE row = ?");
  Stmt round_of(db, "SELECT round FROM labels WHERE row = ?");
  for (const Planned& p : plan) {
    if (p.kind == Planned::Unchanged) continue;
    const Answer& a = batch.answers[p.index];
    int64_t round = p.round;
    if (p.kind == Planned::Relabel) {
      round_of.bind(1, a.row).step();
      round = round_of.int64(0);
      round_of.reset();
    }
    answer.bind(1, file_id).bind(2, a.row).bind(3, a.label).bind(4, a.source).bind(5, round);
    answer.bind(6, int64_t{p.kind == Planned::Relabel}).bind(7, created);
    answer.run();
    const int64_t answer_id = sqlite3_last_insert_rowid(db.get());
    if (p.kind == Planned::New) {
      label.bind(1, a.row).bind(2, a.label).bind(3, round).bind(4, answer_id);
      label.run();
    } else {
      relabel.bind(1, a.label).bind(2, answer_id).bind(3, a.row);
      relabel.run();
    }
  }
  bump_version(db);
  t.commit();
  return out;
}

nlohmann::json label_json(int64_t answers, const ApplyOutcome& outcome, const Snapshot& after) {
  return {{"answers", answers},
          {"applied", outcome.applied},
          {"relabels", outcome.relabels},
          {"unchanged", outcome.unchanged},
          {"labelled", after.labelled_rows.size()},
          {"pending", after.pending_rows.size()}};
}

}  // namespace subset::workflows::al
