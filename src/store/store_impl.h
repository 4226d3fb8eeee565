// Store::Impl: the parts of the store wired together. Private to src/store.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "store/object_index.h"
#include "store/revision_log.h"
#include "store/store.h"
#include "store/watch_hub.h"

namespace xblocks::store {

// Lock order: write_mu_, then the index lock, then the hub lock. Readers take only the index
// lock or only the hub lock.
class Store::Impl {
 public:
  Impl(const Options& options, std::unique_ptr<RevisionLog> log);

  // Loads the newest state of every live key and the revision counters from the log, then
  // creates the watch hub. Called once, before the store is shared.
  Status Recover();

  Result<Json> Create(const std::string& key, Json object);
  Result<Json> Update(const std::string& key, Json object, int64_t expected_revision);
  Result<Json> Delete(const std::string& key, int64_t expected_revision);
  Result<Json> Get(const std::string& key) const;
  ListResult List(const std::string& prefix) const;
  Result<std::shared_ptr<Watcher>> Watch(const std::string& prefix, int64_t from_revision,
                                         std::function<void()> notify);
  Result<int64_t> Compact(int64_t keep_after);
  int64_t CurrentRevision() const { return index_.revision(); }
  int64_t CompactedRevision() const { return hub_->OldestResumableRevision(); }
  void CloseWatchers() { hub_->CloseAll(); }

 private:
  // One write, prepared under write_mu_ once its precondition holds.
  struct Change {
    EventType type = EventType::kAdded;
    std::string key;
    int64_t revision = 0;
    int64_t created = 0;
    int64_t prev_revision = 0;
    std::shared_ptr<const Json> prev_object;  // null for a create
  };

  // The change that updates or deletes the live object at `key`: kNotFound when absent,
  // kConflict when `expected_revision` is set and differs. Requires write_mu_.
  Result<Change> ChangeExisting(const std::string& key, EventType type, int64_t expected_revision);
  // Writes `change` with `object` as its value: the log row, then the index, then the watchers.
  // Releases `lock` before it calls the watchers' notify callbacks.
  Result<Json> Commit(std::unique_lock<std::mutex>& lock, const Change& change, Json object);
  Status CheckExpectedRevision(const std::string& key, const IndexEntry& current,
                               int64_t expected_revision) const;
  Status LoadLiveObject(LogRow row);

  const Options options_;
  std::mutex write_mu_;               // serialises writes and all use of log_
  std::unique_ptr<RevisionLog> log_;  // guarded by write_mu_ after Recover()
  ObjectIndex index_;
  std::unique_ptr<WatchHub> hub_;     // set by Recover()
};

}  // namespace xblocks::store
