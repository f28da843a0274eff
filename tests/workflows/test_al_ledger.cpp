// Tests for libsubset/workflows/al/ledger.h and answers.h: the project file's promises (create
// under a temporary name, queries and answers recorded in one transaction each, idempotent answers,
// relabels kept as history, a batch refused whole), rounds, snapshots and status, and the files
// that are not projects (not SQLite, truncated, another format version).
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "libsubset/workflows/al/answers.h"
#include "libsubset/workflows/al/ledger.h"
#include "support/error_of.h"
#include "support/files.h"
#include "support/temp_dir.h"

using namespace subset::workflows::al;
using namespace subset::test;

namespace {

ProjectInfo info(int64_t rows = 100) {
  ProjectInfo p;
  p.pool = "/data/pool.h5";
  p.pool_checksum = "crc32:01234567";
  p.pool_rows = rows;
  p.class_names = {"cat", "dog", "owl"};
  p.features = p.pool;
  return p;
}

QueryRecord query(std::vector<int64_t> rows, const std::string& strategy = "random") {
  QueryRecord q;
  q.strategy = strategy;
  q.batch = static_cast<int64_t>(rows.size());
  q.rows = std::move(rows);
  q.scoring = {1.5, 0.25};
  q.energy = {{"kwh", 0.5}};
  return q;
}

AnswerBatch answers(std::vector<Answer> a, bool unsolicited = false) {
  AnswerBatch b;
  b.answers = std::move(a);
  b.unsolicited = unsolicited;
  return b;
}

}  // namespace

TEST_CASE("al ledger: create writes a WAL project under a temporary name and refuses an existing one") {
  TempDir dir;
  const std::string path = dir.file("p.al");
  {
    Ledger l = Ledger::create(path, info(), false);
    CHECK(l.project().pool_rows == 100);
    CHECK(l.project().class_names == std::vector<std::string>{"cat", "dog", "owl"});
    CHECK(!l.project().created.empty());
    CHECK(l.snapshot().rounds == 0);
  }
  const std::string header = read_bytes(path).substr(0, 20);
  CHECK(header.substr(0, 15) == "SQLite format 3");
  CHECK(header[18] == 2);  // file format read/write version 2: WAL
  for (const auto& name : list_dir(dir.path())) CHECK(name.find(".partial-") == std::string::npos);
  CHECK(error_of([&] { Ledger::create(path, info(), false); }).message().find("exists") != std::string::npos);
  Ledger again = Ledger::create(path, info(7), true);
  CHECK(again.project().pool_rows == 7);
}

TEST_CASE("al ledger: a seed given to create is query 0, pending") {
  TempDir dir;
  const QueryRecord seed = query({4, 2, 9}, "kcenter");
  Ledger l = Ledger::create(dir.file("p.al"), info(), false, &seed);
  const Snapshot s = l.snapshot();
  CHECK(s.rounds == 1);
  CHECK(s.pending_rows == std::vector<int64_t>{2, 4, 9});
  CHECK(l.status().rounds.at(0).strategy == "kcenter");
}

TEST_CASE("al ledger: answers are applied once; the same answers again change nothing") {
  TempDir dir;
  Ledger l = Ledger::create(dir.file("p.al"), info(), false);
  const int64_t v0 = l.snapshot().version;
  CHECK(l.record_query(query({10, 11, 12}), v0) == 0);
  CHECK(l.record_query(query({20, 21}), l.snapshot().version) == 1);
  const AnswerBatch b = answers({{10, 0, "ann"}, {11, 2, "ann"}, {20, 1, ""}});
  const ApplyOutcome first = l.apply_answers(b);
  CHECK(first.applied == 3);
  CHECK(first.unchanged == 0);
  const int64_t version = l.snapshot().version;
  const ApplyOutcome second = l.apply_answers(b);
  CHECK(second.applied == 0);
  CHECK(second.relabels == 0);
  CHECK(second.unchanged == 3);
  const Snapshot s = l.snapshot();
  CHECK(s.version == version);
  CHECK(s.labelled_rows == std::vector<int64_t>{10, 11, 20});
  CHECK(s.labels == std::vector<int64_t>{0, 2, 1});
  CHECK(s.label_rounds == std::vector<int64_t>{0, 0, 1});  // the round of the query that proposed the row
  CHECK(s.pending_rows == std::vector<int64_t>{12, 21});
  const Status st = l.status();
  CHECK(st.labelled == 3);
  CHECK(st.pending == 2);
  CHECK(st.answers == 3);
  CHECK(st.class_counts == std::vector<int64_t>{1, 1, 1});
  REQUIRE(st.rounds.size() == 2);
  CHECK(st.rounds[0].proposed == 3);
  CHECK(st.rounds[0].answered == 2);
  CHECK(st.rounds[1].answered == 1);
  CHECK(st.rounds[0].scoring.seconds == 1.5);
  CHECK(st.total_kwh == doctest::Approx(1.0));
  CHECK(st.to_json()["class_counts"]["owl"] == 1);
}

TEST_CASE("al ledger: a different later answer is a relabel, history kept, counted") {
  TempDir dir;
  Ledger l = Ledger::create(dir.file("p.al"), info(), false);
  l.record_query(query({5}), 0);
  l.apply_answers(answers({{5, 0, "a"}}));
  const ApplyOutcome out = l.apply_answers(answers({{5, 2, "b"}}));
  CHECK(out.relabels == 1);
  CHECK(out.applied == 0);
  const Snapshot s = l.snapshot();
  CHECK(s.labels == std::vector<int64_t>{2});
  CHECK(s.label_rounds == std::vector<int64_t>{0});
  const Status st = l.status();
  CHECK(st.relabels == 1);
  CHECK(st.answers == 2);  // the first answer is still there
  CHECK(st.class_counts == std::vector<int64_t>{0, 0, 1});
}

TEST_CASE("al ledger: a bad batch is refused whole, naming the problem and its line") {
  TempDir dir;
  Ledger l = Ledger::create(dir.file("p.al"), info(), false);
  l.record_query(query({1, 2, 3}), 0);
  const int64_t version = l.snapshot().version;
  auto refused = [&](AnswerBatch b) {
    b.file = "a.csv";
    b.lines.clear();
    for (size_t i = 0; i < b.answers.size(); ++i) b.lines.push_back(static_cast<int64_t>(i) + 2);
    const subset::Error e = error_of([&] { l.apply_answers(b); });
    CHECK(l.snapshot().version == version);
    CHECK(l.snapshot().labelled_rows.empty());
    return e.message() + " @ " + e.where();
  };
  CHECK(refused(answers({{1, 0, ""}, {100, 0, ""}})).find("row 100 is not a row of the pool") != std::string::npos);
  CHECK(refused(answers({{1, 0, ""}, {-1, 0, ""}})).find("row -1") != std::string::npos);
  CHECK(refused(answers({{1, 3, ""}})).find("label 3") != std::string::npos);
  const std::string conflict = refused(answers({{1, 0, ""}, {2, 0, ""}, {1, 1, ""}}));
  CHECK(conflict.find("conflicting answers for row 1") != std::string::npos);
  CHECK(conflict.find("a.csv:2") != std::string::npos);
  CHECK(conflict.find("@ a.csv:4") != std::string::npos);
  CHECK(refused(answers({{1, 0, ""}, {50, 0, ""}})).find("not in a pending query") != std::string::npos);
  // The same answer twice in one file is one answer.
  CHECK(l.apply_answers(answers({{1, 0, ""}, {1, 0, ""}})).applied == 1);
}

TEST_CASE("al ledger: unsolicited answers belong to the latest round") {
  TempDir dir;
  Ledger l = Ledger::create(dir.file("p.al"), info(), false);
  CHECK(l.apply_answers(answers({{7, 1, ""}}, true)).applied == 1);
  l.record_query(query({1}), l.snapshot().version);
  l.record_query(query({2}), l.snapshot().version);
  l.apply_answers(answers({{8, 1, ""}}, true));
  const Snapshot s = l.snapshot();
  CHECK(s.labelled_rows == std::vector<int64_t>{7, 8});
  CHECK(s.label_rounds == std::vector<int64_t>{0, 1});
}

TEST_CASE("al ledger: record_query refuses a stale snapshot and rows already taken") {
  TempDir dir;
  Ledger l = Ledger::create(dir.file("p.al"), info(), false);
  const int64_t v = l.snapshot().version;
  l.record_query(query({1, 2}), v);
  CHECK(error_of([&] { l.record_query(query({3}), v); }).message().find("changed") != std::string::npos);
  const int64_t now = l.snapshot().version;
  CHECK(error_of([&] { l.record_query(query({2}), now); }).message().find("already labelled or pending") !=
        std::string::npos);
  CHECK(error_of([&] { l.record_query(query({3, 3}), now); }).message().find("twice") != std::string::npos);
  CHECK(error_of([&] { l.record_query(query({100}), now); }).message().find("not a row") != std::string::npos);
  CHECK(l.snapshot().rounds == 1);
}

TEST_CASE("al ledger: a second connection sees what the first committed") {
  TempDir dir;
  const std::string path = dir.file("p.al");
  Ledger a = Ledger::create(path, info(), false);
  a.record_query(query({1}), 0);
  Ledger b = Ledger::open(path);
  b.apply_answers(answers({{1, 2, ""}}));
  CHECK(a.snapshot().labels == std::vector<int64_t>{2});
}

TEST_CASE("al ledger: open refuses files that are not projects, naming the path") {
  TempDir dir;
  const std::string missing = dir.file("missing.al");
  CHECK(error_of([&] { Ledger::open(missing); }).where() == missing);
  const std::string text = dir.file("text.al");
  write_bytes(text, std::string(4096, 'x'));
  const subset::Error not_db = error_of([&] { Ledger::open(text); });
  CHECK(not_db.message().find("not an active-learning project") != std::string::npos);
  CHECK(not_db.where() == text);
  const std::string good = dir.file("good.al");
  { Ledger::create(good, info(), false).record_query(query({1, 2, 3}), 0); }
  const std::string bytes = read_bytes(good);
  const std::string cut = dir.file("cut.al");
  write_bytes(cut, bytes.substr(0, bytes.size() / 2));
  CHECK(error_of([&] { Ledger::open(cut).status(); }).message().find("truncated") != std::string::npos);
  write_bytes(cut, bytes.substr(0, 50));
  CHECK(error_of([&] { Ledger::open(cut); }).message().find("not an active-learning project") != std::string::npos);
}

TEST_CASE("al answers from memory resolve names and ids as the answers file does") {
  TempDir dir;
  const std::vector<std::string> names = {"cat", "dog", "2"};
  const std::string f = dir.file("a.csv");
  write_bytes(f, "3,dog\n4,0\n5,2\n");
  const AnswerBatch from_file = read_answers(f, names, "ann");
  const AnswerBatch from_memory = make_answers({3, 4, 5}, {"dog", "0", "2"}, names, "ann");
  REQUIRE(from_memory.answers.size() == from_file.answers.size());
  for (size_t i = 0; i < from_file.answers.size(); ++i) {
    CHECK(from_memory.answers[i].row == from_file.answers[i].row);
    CHECK(from_memory.answers[i].label == from_file.answers[i].label);
    CHECK(from_memory.answers[i].source == from_file.answers[i].source);
  }
  CHECK(error_of([&] { make_answers({1, 2}, {"cat"}, names); }).where() == "answers");
  CHECK(error_of([&] { make_answers({}, {}, names); }).where() == "answers");
  CHECK(error_of([&] { make_answers({1, 2}, {"cat", "horse"}, names); }).where() == "answer 1");
}

TEST_CASE("al answers: names or ids, optional header and source, errors name FILE:LINE") {
  TempDir dir;
  const std::vector<std::string> names = {"cat", "dog", "2"};
  const std::string f = dir.file("a.csv");
  write_bytes(f, "row,label,source\n3,dog,ann\n\n4, 0 \r\n5,2,\n");
  const AnswerBatch b = read_answers(f, names, "default");
  REQUIRE(b.answers.size() == 3);
  CHECK(b.answers[0].label == 1);
  CHECK(b.answers[0].source == "ann");
  CHECK(b.answers[1].label == 0);
  CHECK(b.answers[1].source == "default");
  CHECK(b.answers[2].label == 2);  // the name "2" (also its id here)
  CHECK(b.lines == std::vector<int64_t>{2, 4, 5});
  auto error_for = [&](const std::string& text) {
    write_bytes(f, text);
    const subset::Error e = error_of([&] { read_answers(f, names); });
    return e.message() + " @ " + e.where();
  };
  CHECK(error_for("1,cat\n2,horse\n").find("unknown class 'horse'") != std::string::npos);
  CHECK(error_for("1,cat\n2,horse\n").find("@ " + f + ":2") != std::string::npos);
  CHECK(error_for("1,5\n").find("label 5 is not a class id") != std::string::npos);
  CHECK(error_for("x,cat\n").find("not a row number") != std::string::npos);
  CHECK(error_for("-1,cat\n").find("not a row number") != std::string::npos);
  CHECK(error_for("1\n").find("expected 'row,label'") != std::string::npos);
  CHECK(error_for("row,lbl\n1,cat\n").find("header") != std::string::npos);
  CHECK(error_for("").find("no answers") != std::string::npos);
  CHECK(error_for("row,label\n\n").find("no answers") != std::string::npos);
}

TEST_CASE("al ledger: every connection commits durably (WAL, synchronous FULL), read back from SQLite") {
  TempDir dir;
  const std::string path = dir.file("p.al");
  const Ledger created = Ledger::create(path, info(), false, nullptr);
  CHECK(created.durability().journal_mode == "wal");
  CHECK(created.durability().synchronous == 2);  // FULL: the log is synced before COMMIT returns
  Ledger opened = Ledger::open(path);
  opened.apply_answers(answers({{3, 1, "ann"}}, true));
  CHECK(opened.durability().journal_mode == "wal");
  CHECK(opened.durability().synchronous == 2);
}

TEST_CASE("al answers: a byte-order mark, CRLF, quoted fields and a blank tail are read") {
  TempDir dir;
  const std::string path = dir.file("a.csv");
  write_bytes(path, "\xEF\xBB\xBFrow,label,source\r\n\"7\",\"dog\",\"Smith, J.\"\r\n8,\"o\"\"wl\"\r\n\r\n\n");
  const subset::Error quote = error_of([&] { read_answers(path, {"cat", "dog", "owl"}); });
  CHECK(quote.where() == path + ":3");
  write_bytes(path, "\xEF\xBB\xBFrow,label,source\r\n\"7\",\"dog\",\"Smith, J.\"\r\n8,owl\r\n\r\n\n");
  const AnswerBatch b = read_answers(path, {"cat", "dog", "owl"});
  REQUIRE(b.answers.size() == 2);
  CHECK(b.answers[0].row == 7);
  CHECK(b.answers[0].label == 1);
  CHECK(b.answers[0].source == "Smith, J.");
  CHECK(b.answers[1].label == 2);
  CHECK(b.lines == std::vector<int64_t>{2, 3});
  write_bytes(path, "18446744073709551616,cat\n");
  CHECK(error_of([&] { read_answers(path, {"cat"}); }).message().find("not a row of the pool") != std::string::npos);
  write_bytes(path, "1,-1\n");
  CHECK(error_of([&] { read_answers(path, {"cat"}); }).message().find("label -1 is not a class id") != std::string::npos);
}
