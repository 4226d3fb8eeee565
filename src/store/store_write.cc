// Store writes: create, update, delete and compaction. All run under write_mu_.
#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include "store/object_codec.h"
#include "store/store_impl.h"

namespace xblocks::store {

Result<Json> Store::Impl::Create(const std::string& key, Json object) {
  XB_RETURN_IF_ERROR(ValidateKey(key));
  std::unique_lock lock(write_mu_);
  if (std::optional<IndexEntry> current = index_.Find(key)) {
    return AlreadyExists(
        fmt::format("key {} already exists at resourceVersion {}", key, current->revision));
  }

  const int64_t revision = index_.revision() + 1;
  Change change;
  change.type = EventType::kAdded;
  change.key = key;
  change.revision = revision;
  change.created = revision;
  return Commit(lock, change, std::move(object));
}

Result<Store::Impl::Change> Store::Impl::ChangeExisting(const std::string& key, EventType type,
                                                        int64_t expected_revision) {
  std::optional<IndexEntry> current = index_.Find(key);
  if (!current) return NotFound(fmt::format("key {} not found", key));
  XB_RETURN_IF_ERROR(CheckExpectedRevision(key, *current, expected_revision));
  return Change{
      .type = type,
      .key = key,
      .revision = index_.revision() + 1,
      .created = current->created,
      .prev_revision = current->revision,
      .prev_object = current->object,
  };
}

Result<Json> Store::Impl::Update(const std::string& key, Json object, int64_t expected_revision) {
  XB_RETURN_IF_ERROR(ValidateKey(key));
  std::unique_lock lock(write_mu_);
  auto change = ChangeExisting(key, EventType::kModified, expected_revision);
  if (!change.ok()) return change.status();
  return Commit(lock, *change, std::move(object));
}

Result<Json> Store::Impl::Delete(const std::string& key, int64_t expected_revision) {
  XB_RETURN_IF_ERROR(ValidateKey(key));
  std::unique_lock lock(write_mu_);
  auto change = ChangeExisting(key, EventType::kDeleted, expected_revision);
  if (!change.ok()) return change.status();
  // The tombstone stores the last state, so the DELETED event and the log agree.
  return Commit(lock, *change, *change->prev_object);
}

Status Store::Impl::CheckExpectedRevision(const std::string& key, const IndexEntry& current,
                                          int64_t expected_revision) const {
  if (expected_revision == 0 || expected_revision == current.revision) return Status::Ok();
  return Conflict(fmt::format(
      "the object at {} has been modified (expected resourceVersion {}, current {}); please "
      "apply your changes to the latest version and try again",
      key, expected_revision, current.revision));
}

Result<Json> Store::Impl::Commit(std::unique_lock<std::mutex>& lock, const Change& change,
                                 Json object) {
  XB_RETURN_IF_ERROR(SetResourceVersion(object, change.revision));
  Result<std::string> text = EncodeObject(object, change.key);
  if (!text.ok()) return text.status();

  const bool deleted = change.type == EventType::kDeleted;
  Status appended = log_->Append(LogRow{
      .revision = change.revision,
      .key = change.key,
      .created = change.created,
      .deleted = deleted,
      .prev_revision = change.prev_revision,
      .value = std::move(*text),
  });
  if (!appended.ok()) {
    spdlog::warn("store write failed key={} rv={} err={}", change.key, change.revision,
                 appended.message());
    return appended;
  }

  if (deleted) {
    index_.Erase(change.key, change.revision);
  } else {
    index_.Put(change.key, IndexEntry{.object = std::make_shared<const Json>(object),
                                      .revision = change.revision,
                                      .created = change.created});
  }

  Event event;
  event.type = change.type;
  event.key = change.key;
  event.revision = change.revision;
  event.object = object;
  if (change.prev_object) event.prev_object = *change.prev_object;
  std::vector<std::function<void()>> callbacks = hub_->Publish(event);

  // Notify callbacks run without store locks, so a consumer may call back into the store.
  lock.unlock();
  for (const auto& notify : callbacks) notify();
  return object;
}

Result<int64_t> Store::Impl::Compact(int64_t keep_after) {
  if (keep_after < 0) {
    return Invalid(fmt::format("compaction revision {} is invalid: it must not be negative",
                               keep_after));
  }
  std::lock_guard lock(write_mu_);
  keep_after = std::min(keep_after, index_.revision());
  Result<int64_t> removed = log_->Compact(keep_after);
  if (!removed.ok()) {
    spdlog::warn("store compaction failed rv={} err={}", keep_after, removed.status().message());
    return removed.status();
  }
  hub_->SetCompactedRevision(keep_after);
  spdlog::info("store compacted rv={} rows_removed={}", keep_after, *removed);
  return removed;
}

}  // namespace xblocks::store
