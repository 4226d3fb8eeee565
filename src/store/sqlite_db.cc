#include "store/sqlite_db.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace xblocks::store {

Status SqliteStatus(sqlite3* db, int rc, std::string_view operation,
                    const std::filesystem::path& path) {
  const char* text = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  std::string message = fmt::format("SQLite {} failed on {}: {} (code {})", operation,
                                    path.string(), text, rc);
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return Status(StatusCode::kUnavailable,
                  message + "; another process may be using the database file");
  }
  return Internal(std::move(message));
}

Statement::Statement(sqlite3* db, sqlite3_stmt* stmt, const std::filesystem::path* path)
    : db_(db), stmt_(stmt), path_(path) {}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(other.stmt_), path_(other.path_), bind_error_(other.bind_error_) {
  other.stmt_ = nullptr;
}

void Statement::RecordBindResult(int rc) {
  if (rc != SQLITE_OK && bind_error_ == 0) bind_error_ = rc;
}

void Statement::BindInt(int index, int64_t value) {
  RecordBindResult(sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindNull(int index) { RecordBindResult(sqlite3_bind_null(stmt_, index)); }

void Statement::BindText(int index, std::string_view text) {
  RecordBindResult(sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT,
                                       SQLITE_UTF8));
}

void Statement::BindBlob(int index, std::string_view bytes) {
  RecordBindResult(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT));
}

Result<bool> Statement::Step() {
  if (bind_error_ != 0) {
    const int rc = bind_error_;
    Reset();
    return SqliteStatus(nullptr, rc, "bind", *path_);
  }
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status status = SqliteStatus(db_, rc, "step", *path_);
  Reset();
  return status;
}

Status Statement::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
  }
  Reset();
  return Status::Ok();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = 0;
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::string Statement::ColumnBytes(int column) const {
  const void* data = sqlite3_column_blob(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr || size <= 0) return {};
  return std::string(static_cast<const char*>(data), static_cast<size_t>(size));
}

Database::Database(sqlite3* db, std::filesystem::path path) : db_(db), path_(std::move(path)) {}

Database::~Database() { sqlite3_close_v2(db_); }

Result<std::unique_ptr<Database>> Database::Open(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = SqliteStatus(db, rc, "open", path);
    sqlite3_close_v2(db);  // SQLite allocates a handle even when open fails.
    return status;
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db, path));
}

Status Database::Exec(const std::string& sql) {
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteStatus(db_, rc, "exec", path_);
  return Status::Ok();
}

Result<std::string> Database::QueryText(const std::string& sql) {
  Result<Statement> statement = Prepare(sql);
  if (!statement.ok()) return statement.status();
  Result<bool> row = statement->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Internal(fmt::format("SQLite returned no row for \"{}\" on {}", sql, path_.string()));
  return statement->ColumnBytes(0);
}

Result<int64_t> Database::QueryInt(const std::string& sql) {
  Result<Statement> statement = Prepare(sql);
  if (!statement.ok()) return statement.status();
  Result<bool> row = statement->Step();
  if (!row.ok()) return row.status();
  if (!*row) return Internal(fmt::format("SQLite returned no row for \"{}\" on {}", sql, path_.string()));
  return statement->ColumnInt(0);
}

int64_t Database::Changes() const { return sqlite3_changes64(db_); }

Result<Statement> Database::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteStatus(db_, rc, "prepare", path_);
  }
  return Statement(db_, stmt, &path_);
}

}  // namespace xblocks::store
