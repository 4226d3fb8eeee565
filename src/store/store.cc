// Store: opening and recovery, reads, and watches. Writes are in store_write.cc.
#include <fmt/format.h>

#include "store/object_codec.h"
#include "store/store_impl.h"

namespace xblocks::store {

Store::Impl::Impl(const Options& options, std::unique_ptr<RevisionLog> log)
    : options_(options), log_(std::move(log)) {}

Status Store::Impl::Recover() {
  XB_RETURN_IF_ERROR(log_->ForEachLiveRow([this](LogRow row) { return LoadLiveObject(std::move(row)); }));

  Result<int64_t> revision = log_->LoadCurrentRevision();
  if (!revision.ok()) return revision.status();
  index_.set_revision(*revision);

  Result<int64_t> compacted = log_->LoadCompactedRevision();
  if (!compacted.ok()) return compacted.status();

  hub_ = std::make_unique<WatchHub>(WatchHub::Options{
      .history_limit = options_.watch_history,
      .watcher_queue = options_.watcher_queue,
      .revision = *revision,
      .compacted_revision = *compacted,
  });
  return Status::Ok();
}

Status Store::Impl::LoadLiveObject(LogRow row) {
  Result<Json> object = DecodeObject(row.value, row.revision);
  if (!object.ok()) {
    return Internal(fmt::format("{} (file {}); restore the file from a backup",
                                object.status().message(), log_->path().string()));
  }
  // The stored text already carries this resourceVersion; setting it again guards against a
  // row edited by hand.
  XB_RETURN_IF_ERROR(SetResourceVersion(*object, row.revision));
  index_.Put(row.key, IndexEntry{
                          .object = std::make_shared<const Json>(std::move(*object)),
                          .revision = row.revision,
                          .created = row.created,
                      });
  return Status::Ok();
}

Result<Json> Store::Impl::Get(const std::string& key) const {
  XB_RETURN_IF_ERROR(ValidateKey(key));
  std::optional<IndexEntry> entry = index_.Find(key);
  if (!entry) return NotFound(fmt::format("key {} not found", key));
  return *entry->object;
}

ListResult Store::Impl::List(const std::string& prefix) const {
  ObjectIndex::Snapshot snapshot = index_.List(prefix);
  ListResult result;
  result.revision = snapshot.revision;
  result.items.reserve(snapshot.objects.size());
  for (const auto& object : snapshot.objects) result.items.push_back(*object);
  return result;
}

Result<std::shared_ptr<Watcher>> Store::Impl::Watch(const std::string& prefix,
                                                    int64_t from_revision,
                                                    std::function<void()> notify) {
  if (from_revision < 0) {
    return Invalid(fmt::format("resourceVersion {} is invalid: it must not be negative",
                               from_revision));
  }
  const int64_t current = index_.revision();
  if (from_revision == 0) from_revision = current;
  if (from_revision > current) {
    return Status(StatusCode::kTimeout,
                  fmt::format("Too large resource version: {}, current resource version: {}",
                              from_revision, current));
  }
  return hub_->Subscribe(prefix, from_revision, std::move(notify));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() { impl_->CloseWatchers(); }

Result<std::unique_ptr<Store>> Store::Open(const Options& options) {
  Result<std::unique_ptr<RevisionLog>> log =
      RevisionLog::Open(options.path, options.synchronous_full);
  if (!log.ok()) return log.status();
  auto impl = std::make_unique<Impl>(options, std::move(*log));
  XB_RETURN_IF_ERROR(impl->Recover());
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Result<Json> Store::Create(const std::string& key, Json object) {
  return impl_->Create(key, std::move(object));
}

Result<Json> Store::Update(const std::string& key, Json object, int64_t expected_revision) {
  return impl_->Update(key, std::move(object), expected_revision);
}

Result<Json> Store::Delete(const std::string& key, int64_t expected_revision) {
  return impl_->Delete(key, expected_revision);
}

Result<Json> Store::Get(const std::string& key) const { return impl_->Get(key); }

ListResult Store::List(const std::string& prefix) const { return impl_->List(prefix); }

int64_t Store::CurrentRevision() const { return impl_->CurrentRevision(); }

int64_t Store::CompactedRevision() const { return impl_->CompactedRevision(); }

Result<std::shared_ptr<Watcher>> Store::Watch(const std::string& prefix, int64_t from_revision,
                                              std::function<void()> notify) {
  return impl_->Watch(prefix, from_revision, std::move(notify));
}

Result<int64_t> Store::Compact(int64_t keep_after) { return impl_->Compact(keep_after); }

}  // namespace xblocks::store
