#include "store/watch_hub.h"

#include <algorithm>

#include <fmt/format.h>

namespace xblocks::store {
namespace {

bool HasPrefix(const std::string& key, const std::string& prefix) {
  return key.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

WatchHub::WatchHub(const Options& options)
    : options_(options),
      history_floor_(options.revision),
      latest_revision_(options.revision),
      compacted_revision_(options.compacted_revision) {}

std::vector<std::function<void()>> WatchHub::Publish(const Event& event) {
  std::vector<std::function<void()>> callbacks;
  std::lock_guard lock(mu_);

  history_.push_back(event);
  while (history_.size() > options_.history_limit) {
    history_floor_ = history_.front().revision;
    history_.pop_front();
  }
  latest_revision_ = event.revision;

  // Delivers to matching watchers and drops registrations that are cancelled or just closed.
  std::erase_if(registrations_, [&](Registration& registration) {
    Watcher& watcher = *registration.watcher;
    if (watcher.cancelled() || watcher.closed()) return true;
    if (event.revision <= registration.after_revision || !HasPrefix(event.key, watcher.prefix())) {
      return false;
    }
    watcher.Push(event);
    if (registration.notify) callbacks.push_back(registration.notify);
    return watcher.closed();
  });
  return callbacks;
}

Result<std::shared_ptr<Watcher>> WatchHub::Subscribe(const std::string& prefix,
                                                     int64_t from_revision,
                                                     std::function<void()> notify) {
  auto watcher = std::make_shared<Watcher>(prefix, notify, options_.watcher_queue);
  size_t replayed = 0;
  {
    std::lock_guard lock(mu_);
    const int64_t oldest = OldestResumableRevisionLocked();
    if (from_revision < oldest) {
      return Gone(fmt::format(
          "too old resource version: {} (oldest resumable: {}); list again and watch from the "
          "list's resourceVersion",
          from_revision, oldest));
    }
    replayed = ReplayLocked(*watcher, from_revision);
    registrations_.push_back(
        {watcher, notify, std::max(from_revision, latest_revision_)});
  }
  if (replayed > 0 && notify) notify();
  return watcher;
}

size_t WatchHub::ReplayLocked(Watcher& watcher, int64_t from_revision) const {
  auto first = std::upper_bound(
      history_.begin(), history_.end(), from_revision,
      [](int64_t revision, const Event& event) { return revision < event.revision; });
  size_t replayed = 0;
  for (auto it = first; it != history_.end(); ++it) {
    if (!HasPrefix(it->key, watcher.prefix())) continue;
    watcher.Push(*it);
    ++replayed;
  }
  return replayed;
}

int64_t WatchHub::OldestResumableRevision() const {
  std::lock_guard lock(mu_);
  return OldestResumableRevisionLocked();
}

int64_t WatchHub::OldestResumableRevisionLocked() const {
  return std::max(history_floor_, compacted_revision_);
}

void WatchHub::SetCompactedRevision(int64_t revision) {
  std::lock_guard lock(mu_);
  compacted_revision_ = std::max(compacted_revision_, revision);
}

void WatchHub::CloseAll() {
  std::vector<Registration> registrations;
  {
    std::lock_guard lock(mu_);
    registrations.swap(registrations_);
  }
  for (Registration& registration : registrations) registration.watcher->Close();
}

}  // namespace xblocks::store
