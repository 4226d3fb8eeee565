// A small RAII layer over the SQLite C API. Every SQLite error is turned into a Status here, so
// the rest of the store never sees a result code.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace xblocks::store {

// Translates SQLite result code `rc` into a Status: kUnavailable for SQLITE_BUSY and
// SQLITE_LOCKED (another connection holds the file), kInternal for everything else. The message
// names `operation`, the file and SQLite's own text. `db` may be null.
Status SqliteStatus(sqlite3* db, int rc, std::string_view operation,
                    const std::filesystem::path& path);

// One prepared statement. Owns its sqlite3_stmt. The Database that prepared it must outlive it.
// Not thread-safe: the caller serialises use of the connection.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt, const std::filesystem::path* path);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds parameter `index` (1-based). A failed bind is returned by the next Step() or Run().
  void BindInt(int index, int64_t value);
  void BindNull(int index);
  void BindText(int index, std::string_view text);
  void BindBlob(int index, std::string_view bytes);

  // Steps once. Returns true when a row is available and false when the statement is done.
  Result<bool> Step();
  // Steps to completion, ignoring rows, then resets the statement and clears its bindings.
  Status Run();
  // Resets the statement so it can be bound and run again.
  void Reset();

  int64_t ColumnInt(int column) const;
  bool ColumnIsNull(int column) const;
  // The column's bytes, for TEXT and BLOB columns alike.
  std::string ColumnBytes(int column) const;

 private:
  void RecordBindResult(int rc);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const std::filesystem::path* path_;
  int bind_error_ = 0;
};

// One SQLite connection. Owns its sqlite3 handle. Not thread-safe: the caller serialises calls.
class Database {
 public:
  // Opens or creates the file. Returns kInternal naming the file if SQLite cannot open it.
  static Result<std::unique_ptr<Database>> Open(const std::filesystem::path& path);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows of interest.
  Status Exec(const std::string& sql);
  // Runs a query that returns one text value, such as "PRAGMA journal_mode=WAL".
  Result<std::string> QueryText(const std::string& sql);
  // Runs a query that returns one integer value. A NULL or non-numeric value reads as 0.
  Result<int64_t> QueryInt(const std::string& sql);
  Result<Statement> Prepare(const std::string& sql);
  // The number of rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  const std::filesystem::path& path() const { return path_; }

 private:
  Database(sqlite3* db, std::filesystem::path path);

  sqlite3* db_;
  const std::filesystem::path path_;
};

}  // namespace xblocks::store
