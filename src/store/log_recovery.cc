// The read side of the revision log, used once at Open to rebuild the in-memory state.
#include <fmt/format.h>

#include "store/revision_log.h"

namespace xblocks::store {
namespace {

// The newest row of each key, skipping keys whose newest row is a tombstone. The (key, revision)
// index serves the inner GROUP BY.
constexpr const char* kLiveRowsSql =
    "SELECT log.revision, log.key, log.created, log.prev_revision, log.value FROM log "
    "JOIN (SELECT key, MAX(revision) AS newest FROM log GROUP BY key) AS latest "
    "ON log.revision = latest.newest WHERE log.deleted = 0 ORDER BY log.key";

LogRow ReadLiveRow(const Statement& statement) {
  LogRow row;
  row.revision = statement.ColumnInt(0);
  row.key = statement.ColumnBytes(1);
  row.created = statement.ColumnInt(2);
  row.prev_revision = statement.ColumnIsNull(3) ? 0 : statement.ColumnInt(3);
  row.value = statement.ColumnBytes(4);
  return row;
}

}  // namespace

Status RevisionLog::ForEachLiveRow(const std::function<Status(LogRow row)>& visit) {
  Result<Statement> query = db_->Prepare(kLiveRowsSql);
  if (!query.ok()) return query.status();
  while (true) {
    Result<bool> has_row = query->Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return Status::Ok();
    XB_RETURN_IF_ERROR(visit(ReadLiveRow(*query)));
  }
}

Result<int64_t> RevisionLog::LoadCurrentRevision() {
  // sqlite_sequence has no row for `log` until the first insert, hence the COALESCE.
  return db_->QueryInt(
      "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'log'), 0), "
      "COALESCE((SELECT MAX(revision) FROM log), 0))");
}

Result<int64_t> RevisionLog::LoadCompactedRevision() {
  return db_->QueryInt("SELECT value FROM meta WHERE name = 'compacted_revision'");
}

}  // namespace xblocks::store
