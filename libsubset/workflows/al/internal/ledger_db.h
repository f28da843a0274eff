#pragma once
// The SQLite layer under the ledger (ledger.cpp, ledger_status.cpp): a connection, prepared
// statements and transactions that turn every SQLite failure into one subset::Error naming the
// project file. Only the ledger's own files include this (and so sqlite3.h).
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>

namespace subset::workflows::al::internal {

class Db {
 public:
  Db() = default;
  // Opens `path` (created when `create`, else it must exist); busy writers wait `busy_timeout_ms`.
  // `immutable`: read-only, trusting that nobody writes the file meanwhile (SQLite then needs no
  // -shm beside it, which a read-only directory cannot hold).
  Db(const std::string& path, bool create, int busy_timeout_ms, bool immutable = false);
  ~Db();
  Db(Db&& other) noexcept : db_(other.db_), path_(std::move(other.path_)) { other.db_ = nullptr; }
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  sqlite3* get() const { return db_; }
  const std::string& path() const { return path_; }
  void exec(const std::string& sql);
  // Throws Error for a result code other than those `ok` accepts, in words a user can act on.
  [[noreturn]] void fail(int code, const std::string& doing) const;
  void close();  // throws when SQLite cannot finish (the file is then not trusted)

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

class Stmt {
 public:
  Stmt(const Db& db, const char* sql);
  ~Stmt();
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, double v);
  Stmt& bind(int i, const std::string& v);
  Stmt& bind(int i, std::optional<double> v);
  Stmt& bind_null(int i);
  // Steps once: true while there is a row.
  bool step();
  void run();  // step to completion, expecting no rows
  void reset();  // ready to bind and step again
  int64_t int64(int col) const;
  double real(int col) const;
  bool is_null(int col) const;
  std::string text(int col) const;

 private:
  const Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// One transaction: BEGIN IMMEDIATE (a writer, which waits for the busy timeout and then is refused)
// or a deferred BEGIN (a reader, which sees one consistent state); rolled back unless committed.
class Transaction {
 public:
  Transaction(Db& db, bool write);
  ~Transaction();
  void commit();

 private:
  Db& db_;
  bool open_ = false;
};

// A single integer from a query with no parameters.
int64_t scalar(const Db& db, const char* sql);

}  // namespace subset::workflows::al::internal

#include "libsubset/workflows/al/ledger.h"

namespace subset::workflows::al {

struct Ledger::Impl {
  internal::Db db;
  ProjectInfo info;
  bool read_only = false;
};

}  // namespace subset::workflows::al
