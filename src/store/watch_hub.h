// The watch broadcaster: the ring of recent events and the set of open watchers.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"
#include "store/store.h"

namespace xblocks::store {

// Thread-safety: every method may be called from any thread; one internal mutex guards the
// state. Publish() must be called in revision order, which the store's write mutex ensures.
class WatchHub {
 public:
  struct Options {
    size_t history_limit = 0;       // events kept in the ring
    size_t watcher_queue = 0;       // events a watcher may hold before it is closed
    int64_t revision = 0;           // the store revision at Open; older events are not in the ring
    int64_t compacted_revision = 0;
  };
  explicit WatchHub(const Options& options);

  // Appends `event` to the ring and queues it on every open watcher whose prefix matches.
  // Returns the notify callbacks of those watchers, to be called once the caller has released
  // its own locks.
  std::vector<std::function<void()>> Publish(const Event& event);

  // Opens a watcher that first receives the ring's events with revision > `from_revision`.
  // Calls `notify` before returning if it replayed any. kGone if `from_revision` is older than
  // OldestResumableRevision(). Precondition: from_revision is not above the store revision.
  Result<std::shared_ptr<Watcher>> Subscribe(const std::string& prefix, int64_t from_revision,
                                             std::function<void()> notify);

  // The oldest revision a watch may resume from: every later event is in the ring, and the log
  // is not compacted past it.
  int64_t OldestResumableRevision() const;
  void SetCompactedRevision(int64_t revision);

  // Closes every open watcher and removes it from the hub.
  void CloseAll();

 private:
  struct Registration {
    std::shared_ptr<Watcher> watcher;
    std::function<void()> notify;
    int64_t after_revision = 0;  // events up to this revision were replayed or skipped
  };

  int64_t OldestResumableRevisionLocked() const;  // requires mu_
  size_t ReplayLocked(Watcher& watcher, int64_t from_revision) const;  // requires mu_

  const Options options_;
  mutable std::mutex mu_;
  std::deque<Event> history_;               // guarded by mu_; ascending revisions
  int64_t history_floor_;                   // guarded by mu_; all later events are in history_
  int64_t latest_revision_;                 // guarded by mu_; the newest published revision
  int64_t compacted_revision_;              // guarded by mu_
  std::vector<Registration> registrations_;  // guarded by mu_
};

}  // namespace xblocks::store
