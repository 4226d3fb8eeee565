// Watcher methods. Push never calls the notify callback, because the store pushes with its
// locks held; the store calls the callback itself once it has released them.
#include "store/store.h"

namespace xblocks::store {

Watcher::Watcher(std::string prefix, std::function<void()> notify, size_t max_queue)
    : prefix_(std::move(prefix)), notify_(std::move(notify)), max_queue_(max_queue) {}

std::vector<Event> Watcher::Drain() {
  std::lock_guard lock(mu_);
  std::vector<Event> events(std::make_move_iterator(queue_.begin()),
                            std::make_move_iterator(queue_.end()));
  queue_.clear();
  return events;
}

bool Watcher::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}

bool Watcher::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_;
}

void Watcher::Cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  queue_.clear();
}

// A full queue closes the watcher instead of growing without bound. The events already queued
// stay, so the consumer can still send them before it ends the stream.
void Watcher::Push(const Event& event) {
  std::lock_guard lock(mu_);
  if (closed_ || cancelled_) return;
  if (queue_.size() >= max_queue_) {
    closed_ = true;
    return;
  }
  queue_.push_back(event);
}

// Called without store locks held, so it may notify the consumer directly.
void Watcher::Close() {
  bool notify = false;
  {
    std::lock_guard lock(mu_);
    notify = !closed_ && !cancelled_;
    closed_ = true;
  }
  if (notify && notify_) notify_();
}

}  // namespace xblocks::store
