// The SQLite revision log: the on-disk half of the store. The format is described in
// docs/store.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "store/sqlite_db.h"

namespace xblocks::store {

// One row of the `log` table.
struct LogRow {
  int64_t revision = 0;
  std::string key;
  int64_t created = 0;        // revision that created this incarnation of the key
  bool deleted = false;       // a tombstone
  int64_t prev_revision = 0;  // the key's previous row; 0 for a create
  std::string value;          // compact JSON text
};

// Owns the connection to the store file. Not thread-safe: the store calls it with its write
// mutex held. Errors are kInternal (kUnavailable when another process holds the file), with the
// file name and SQLite's message.
class RevisionLog {
 public:
  // Opens or creates the file, sets WAL mode, synchronous=FULL (NORMAL when `synchronous_full`
  // is false) and exclusive locking, creates the tables if missing and checks the schema version.
  static Result<std::unique_ptr<RevisionLog>> Open(const std::filesystem::path& path,
                                                   bool synchronous_full);

  // Appends `row` in its own BEGIN IMMEDIATE transaction. Returns once the commit is durable.
  // On error nothing is written and the revision is not used.
  Status Append(const LogRow& row);

  // Calls `visit` with the newest row of every key whose newest row is not a tombstone, in key
  // order. Stops at and returns the first error, from SQLite or from `visit`.
  Status ForEachLiveRow(const std::function<Status(LogRow row)>& visit);

  // The highest revision ever issued: the AUTOINCREMENT counter, which survives compaction.
  Result<int64_t> LoadCurrentRevision();
  Result<int64_t> LoadCompactedRevision();

  // Deletes rows with revision <= keep_after that are tombstones or superseded by a newer row of
  // the same key, and records keep_after as the compacted revision. Returns the rows removed.
  // Precondition: keep_after is at most the current revision.
  Result<int64_t> Compact(int64_t keep_after);

  const std::filesystem::path& path() const { return db_->path(); }

 private:
  explicit RevisionLog(std::unique_ptr<Database> db);
  Status ApplyPragmas(bool synchronous_full);
  Status CreateSchema();
  Status CheckSchemaVersion();
  Status PrepareStatements();
  Status InTransaction(const std::function<Status()>& body);

  std::unique_ptr<Database> db_;
  std::optional<Statement> begin_;
  std::optional<Statement> commit_;
  std::optional<Statement> rollback_;
  std::optional<Statement> insert_;
};

}  // namespace xblocks::store
