#include "store/revision_log.h"

#include <fmt/format.h>

namespace xblocks::store {
namespace {

constexpr int64_t kSchemaVersion = 1;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS log (
  revision      INTEGER PRIMARY KEY AUTOINCREMENT,
  key           TEXT    NOT NULL,
  created       INTEGER NOT NULL,
  deleted       INTEGER NOT NULL,
  prev_revision INTEGER,
  value         BLOB
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', 1), ('compacted_revision', 0);
)sql";

constexpr const char* kInsertSql =
    "INSERT INTO log (revision, key, created, deleted, prev_revision, value) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

// A row is removable when it is old enough and either a tombstone or not the key's newest row.
constexpr const char* kCompactSql =
    "DELETE FROM log WHERE revision <= ?1 AND (deleted = 1 OR revision < "
    "(SELECT MAX(newer.revision) FROM log AS newer WHERE newer.key = log.key))";

}  // namespace

RevisionLog::RevisionLog(std::unique_ptr<Database> db) : db_(std::move(db)) {}

Result<std::unique_ptr<RevisionLog>> RevisionLog::Open(const std::filesystem::path& path,
                                                       bool synchronous_full) {
  Result<std::unique_ptr<Database>> db = Database::Open(path);
  if (!db.ok()) return db.status();
  std::unique_ptr<RevisionLog> log(new RevisionLog(std::move(*db)));

  XB_RETURN_IF_ERROR(log->ApplyPragmas(synchronous_full));
  // Creating the schema is a write, so it also takes the exclusive lock that is then held
  // until the store closes.
  XB_RETURN_IF_ERROR(log->CreateSchema());
  XB_RETURN_IF_ERROR(log->CheckSchemaVersion());
  XB_RETURN_IF_ERROR(log->PrepareStatements());
  return log;
}

Status RevisionLog::ApplyPragmas(bool synchronous_full) {
  // Exclusive locking must precede the switch to WAL so SQLite keeps the WAL index in process
  // memory and never shares the file with a second server.
  XB_RETURN_IF_ERROR(db_->Exec("PRAGMA locking_mode=EXCLUSIVE; PRAGMA busy_timeout=2000"));
  Result<std::string> mode = db_->QueryText("PRAGMA journal_mode=WAL");
  if (!mode.ok()) return mode.status();
  if (*mode != "wal") {
    return Internal(fmt::format("SQLite could not switch {} to WAL mode: journal_mode is {}",
                                path().string(), *mode));
  }
  return db_->Exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
}

Status RevisionLog::CreateSchema() {
  XB_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Status status = db_->Exec(kSchemaSql);
  if (status.ok()) status = db_->Exec("COMMIT");
  if (!status.ok()) (void)db_->Exec("ROLLBACK");
  return status;
}

Status RevisionLog::CheckSchemaVersion() {
  Result<int64_t> version = db_->QueryInt("SELECT value FROM meta WHERE name = 'schema_version'");
  if (!version.ok()) return version.status();
  if (*version != kSchemaVersion) {
    return Internal(fmt::format(
        "store file {} has schema version {}, but this build reads only version {}",
        path().string(), *version, kSchemaVersion));
  }
  return Status::Ok();
}

Status RevisionLog::PrepareStatements() {
  for (auto [slot, sql] : {std::pair{&begin_, "BEGIN IMMEDIATE"}, std::pair{&commit_, "COMMIT"},
                           std::pair{&rollback_, "ROLLBACK"}, std::pair{&insert_, kInsertSql}}) {
    Result<Statement> statement = db_->Prepare(sql);
    if (!statement.ok()) return statement.status();
    slot->emplace(std::move(*statement));
  }
  return Status::Ok();
}

Status RevisionLog::InTransaction(const std::function<Status()>& body) {
  XB_RETURN_IF_ERROR(begin_->Run());
  Status status = body();
  if (status.ok()) status = commit_->Run();
  // A failed COMMIT may leave the transaction open; roll it back so the next write starts clean.
  if (!status.ok()) (void)rollback_->Run();
  return status;
}

Status RevisionLog::Append(const LogRow& row) {
  return InTransaction([&] {
    insert_->BindInt(1, row.revision);
    insert_->BindText(2, row.key);
    insert_->BindInt(3, row.created);
    insert_->BindInt(4, row.deleted ? 1 : 0);
    if (row.prev_revision == 0) {
      insert_->BindNull(5);
    } else {
      insert_->BindInt(5, row.prev_revision);
    }
    insert_->BindBlob(6, row.value);
    return insert_->Run();
  });
}

Result<int64_t> RevisionLog::Compact(int64_t keep_after) {
  int64_t removed = 0;
  Status status = InTransaction([&]() -> Status {
    Result<Statement> remove = db_->Prepare(kCompactSql);
    if (!remove.ok()) return remove.status();
    remove->BindInt(1, keep_after);
    XB_RETURN_IF_ERROR(remove->Run());
    removed = db_->Changes();

    Result<Statement> record = db_->Prepare(
        "UPDATE meta SET value = MAX(value, ?1) WHERE name = 'compacted_revision'");
    if (!record.ok()) return record.status();
    record->BindInt(1, keep_after);
    return record->Run();
  });
  if (!status.ok()) return status;
  return removed;
}

}  // namespace xblocks::store
