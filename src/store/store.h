// The embedded object store: an append-only revision log in SQLite (WAL mode).
//
// Every write appends one row; its row id is the global revision, and the revision is the
// object's metadata.resourceVersion. The schema, compaction and watch guarantees are written
// down in docs/store.md.
//
// Keys are "/<group or 'core'>/<plural>/<namespace>/<name>"; cluster-scoped objects use an empty
// namespace segment ("/core/namespaces//demo"). A list or watch takes a key prefix.
//
// Thread-safety: every public method may be called from any thread. Writes are serialised; a
// write returns only after its transaction is durable (synchronous=FULL unless Options says
// otherwise), so an acknowledged write survives kill -9 and power loss of the process.
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::store {

enum class EventType { kAdded, kModified, kDeleted };

struct Event {
  EventType type = EventType::kAdded;
  std::string key;
  int64_t revision = 0;
  // The object after the change; for kDeleted, the last state with metadata.resourceVersion set
  // to the deleting revision.
  Json object;
  // The object before the change (null for kAdded). Watches with selectors need it to turn a
  // change that stops matching into a DELETED event.
  Json prev_object;
};

// One open watch. The store appends matching events; the consumer drains them.
class Watcher {
 public:
  // Takes all events queued so far, in revision order.
  std::vector<Event> Drain();
  // True once the store dropped this watcher (it fell too far behind, or the store closed).
  // The consumer then ends its stream; clients re-list.
  bool closed() const;
  // Stops delivery; later events are discarded. Idempotent.
  void Cancel();

  // Internal to the store.
  Watcher(std::string prefix, std::function<void()> notify, size_t max_queue);
  void Push(const Event& event);
  void Close();
  const std::string& prefix() const { return prefix_; }
  bool cancelled() const;

 private:
  const std::string prefix_;
  const std::function<void()> notify_;
  const size_t max_queue_;
  mutable std::mutex mu_;
  std::deque<Event> queue_;  // guarded by mu_
  bool closed_ = false;      // guarded by mu_
  bool cancelled_ = false;   // guarded by mu_
};

struct ListResult {
  std::vector<Json> items;  // sorted by key
  int64_t revision = 0;     // the store revision the list reflects
};

class Store {
 public:
  struct Options {
    std::filesystem::path path;      // the SQLite file, e.g. <data-dir>/state.db
    size_t watch_history = 10000;    // events kept in memory for watches that resume
    size_t watcher_queue = 100000;   // events a slow watcher may have queued before it is closed
    bool synchronous_full = true;    // false only for benchmarks that say so
  };

  // Opens or creates the database, recovers the current state into memory and sets the
  // revision counter. Returns kInternal naming the file and SQLite's message on failure.
  static Result<std::unique_ptr<Store>> Open(const Options& options);
  ~Store();

  // Stores a new object under `key`. Sets metadata.resourceVersion to the new revision and returns
  // the stored object. kAlreadyExists if the key holds a live object.
  Result<Json> Create(const std::string& key, Json object);

  // Replaces the object under `key`. `expected_revision` = 0 skips the check; otherwise the
  // current revision must equal it (kConflict if not). kNotFound if the key is absent.
  Result<Json> Update(const std::string& key, Json object, int64_t expected_revision);

  // Removes the object. Returns its last state with the deleting revision as resourceVersion.
  // `expected_revision` as for Update.
  Result<Json> Delete(const std::string& key, int64_t expected_revision);

  // kNotFound if absent.
  Result<Json> Get(const std::string& key) const;

  // All live objects whose key starts with `prefix`.
  ListResult List(const std::string& prefix) const;

  int64_t CurrentRevision() const;
  // The oldest revision a watch may resume from; older ones get kGone.
  int64_t CompactedRevision() const;

  // Opens a watch on `prefix` that first receives every event with revision > `from_revision`
  // still in history, then each new one. from_revision = 0 means "from now" (the caller lists
  // first). kGone (reason Expired) when from_revision is older than the history kept.
  // `notify` is called, on the writer's thread and without store locks held, each time events are
  // queued; it must not block.
  Result<std::shared_ptr<Watcher>> Watch(const std::string& prefix, int64_t from_revision,
                                         std::function<void()> notify);

  // Deletes log rows that are neither the latest row of a live key nor newer than `keep_after`.
  // Returns the number of rows removed.
  Result<int64_t> Compact(int64_t keep_after);

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace xblocks::store
