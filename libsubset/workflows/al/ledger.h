#pragma once
// The ledger of an active-learning project (`subset al`, docs/active-learning.md): one SQLite
// database (WAL journal, synchronous FULL) holding what the project knows — the pool it is over,
// every query proposed, every answer accepted — so that a command killed at any moment loses no
// accepted answer and leaves a file every command opens. The pool itself stays in its HDF5 store;
// every row number here is a row of that store.
//
// Rounds: query i (0-based, in the order recorded) is round i. A seed chosen by `al init` is
// query 0. An answer belongs to the round of the query that proposed its row; an unsolicited one
// to the round of the latest query (0 when there is none).
//
// Concurrency: every write is one IMMEDIATE transaction; a second writer waits up to
// `busy_timeout_ms` and is then refused with an Error ("project is busy"). A query reads a
// Snapshot, works for a while, and records with the snapshot's version: when another query or
// answer was recorded meanwhile the record is refused and nothing is written.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace subset::workflows::al {

inline constexpr int kLedgerFormatVersion = 1;

struct ProjectInfo {
  std::string pool;              // absolute path of the pool store
  std::string pool_checksum;     // its features checksum (FeatureStore::features_checksum)
  int64_t pool_rows = 0;
  std::vector<std::string> class_names;  // size = number of classes; ids are positions
  std::string features;          // store the strategies read: the pool, or a same-rows store of it
  std::string features_dataset = "/features";
  uint64_t seed = 0;             // every random choice of the project derives from it
  nlohmann::json settings = nlohmann::json::object();  // defaults of query (proxy training, ...)
  std::string created;           // UTC, ISO 8601
  int64_t num_classes() const { return static_cast<int64_t>(class_names.size()); }
};

struct PhaseCost {
  double seconds = 0;
  double kwh = 0;
};

struct QueryRecord {
  int64_t id = 0;                 // = round; assigned by record_query
  std::string strategy;           // random, entropy, ..., or the seed method
  int64_t batch = 0;              // rows asked for (rows.size() may be smaller only when the pool ran out)
  std::vector<int64_t> rows;      // pool rows, in proposal order
  std::vector<float> scores;      // same length, the strategy's score (higher = proposed first);
                                  // empty when the strategy has none (random)
  nlohmann::json settings = nlohmann::json::object();  // strategy and proxy settings, candidates
  int64_t labelled_before = 0;    // labelled rows the proxy was trained on
  std::optional<double> proxy_test_accuracy;  // the proxy on the pool's test split, when it has one
  PhaseCost training, scoring, selection;
  nlohmann::json energy = nullptr;  // the whole command's energy report (EnergyReport::to_json)
  std::string created;            // UTC, ISO 8601; filled by record_query when empty
};

struct Answer {
  int64_t row = 0;
  int64_t label = 0;              // class id
  std::string source;             // who answered (annotator, "oracle", ...); may be empty
};

struct AnswerBatch {
  std::vector<Answer> answers;
  std::string file;               // where they came from (recorded), may be empty
  bool unsolicited = false;       // accept rows no pending query proposed
  // Empty, or the line of `file` each answer came from: errors then name FILE:LINE.
  std::vector<int64_t> lines;
};

struct ApplyOutcome {
  int64_t applied = 0;            // new labels
  int64_t relabels = 0;           // labelled rows given another label (history kept)
  int64_t unchanged = 0;          // answers equal to the row's current label (nothing written)
};

struct Snapshot {
  int64_t version = 0;            // changes whenever a query or an answer is recorded
  int64_t rounds = 0;             // queries recorded
  std::vector<int64_t> labelled_rows;  // ascending
  std::vector<int64_t> labels;         // current label of each labelled row
  std::vector<int64_t> label_rounds;   // the round each labelled row was labelled in
  std::vector<int64_t> pending_rows;   // proposed, not yet labelled; ascending
};

// What `al label --json` prints: answers (given), applied, relabels, unchanged, and the rows
// labelled and pending after them.
nlohmann::json label_json(int64_t answers, const ApplyOutcome& outcome, const Snapshot& after);

struct PendingRow {
  int64_t row = 0;
  int64_t round = 0;               // the query that proposed it
  std::optional<double> score;     // the strategy's score, when it gave one
};

struct RoundStatus {
  int64_t round = 0;
  std::string strategy;
  int64_t proposed = 0, answered = 0;
  int64_t labelled_before = 0;
  std::optional<double> proxy_test_accuracy;
  PhaseCost training, scoring, selection;
  double kwh = 0;                 // the whole command's, from its energy report (0 when none)
  std::string created;
};

struct Status {
  ProjectInfo project;
  int64_t labelled = 0, pending = 0, relabels = 0, answers = 0;
  std::vector<int64_t> class_counts;  // labelled rows per class
  std::vector<RoundStatus> rounds;
  double total_kwh = 0;
  nlohmann::json to_json() const;
};

class Ledger {
 public:
  // Creates a new project file at `path` (refused when it exists unless `force`); written under a
  // temporary name and renamed, so a killed init leaves no file or the old one. A `seed` query, when
  // given, is recorded as query 0 before the rename: the project appears with its seed or not at all.
  static Ledger create(const std::string& path, const ProjectInfo& info, bool force,
                       const QueryRecord* seed = nullptr);
  // Opens an existing project; throws Error naming the path when it is not one (or a newer format).
  // A negative `busy_timeout_ms` is the default: 10 s, or SUBSET_AL_BUSY_TIMEOUT_MS when that
  // environment variable holds a whole number (tests use it to see a busy writer refused quickly).
  static Ledger open(const std::string& path, int busy_timeout_ms = -1);
  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) noexcept;
  ~Ledger();

  const ProjectInfo& project() const;
  Snapshot snapshot() const;
  // Records a query (its rows become pending) if the ledger is still at `expected_version`;
  // throws Error otherwise, or when a row is out of range, labelled or already pending.
  // Returns the round it was given.
  int64_t record_query(QueryRecord record, int64_t expected_version);
  // Validates the whole batch first (rows in range; labels in [0, classes); a row answered twice
  // with different labels; rows not pending unless unsolicited) and throws Error naming the first
  // problem with nothing applied; then applies all of it in one transaction.
  ApplyOutcome apply_answers(const AnswerBatch& batch);
  Status status() const;
  // The rows proposed and not yet labelled, by round, then in proposal order: what annotators
  // still owe, written again by `al pending` (a query killed after it was recorded and before its
  // CSV was renamed into place leaves its rows pending without a file).
  std::vector<PendingRow> pending() const;
  // False when the project was opened read-only (a directory this user cannot write): commands
  // that record something check it before they work, not at the end.
  bool writable() const;

  // How this connection writes, read back from SQLite: what "durable before success is reported"
  // rests on (journal_mode "wal", synchronous 2 = FULL: every commit is synced to the log).
  struct Durability {
    std::string journal_mode;
    int64_t synchronous = -1;
  };
  Durability durability() const;

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace subset::workflows::al
