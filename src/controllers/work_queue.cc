#include "controllers/work_queue.h"

#include <algorithm>
#include <cmath>

namespace xblocks::controllers {
namespace {

// Longer delays are clamped, so clock.Now() + delay cannot overflow the nanosecond TimePoint.
constexpr std::chrono::milliseconds kMaxDelay = std::chrono::hours(24 * 365 * 10);

}  // namespace

WorkQueue::WorkQueue(const Clock& clock, Options options) : clock_(clock), options_(options) {}

void WorkQueue::Add(const Request& request) {
  std::lock_guard lock(mu_);
  AddLocked(request);
}

void WorkQueue::AddLocked(const Request& request) {
  if (shutting_down_ || dirty_.contains(request)) return;
  dirty_.insert(request);
  // A processing Request goes back into the queue in Done(), never to a second worker.
  if (processing_.contains(request)) return;
  queue_.push_back(request);
  cv_.notify_one();
}

void WorkQueue::AddAfter(const Request& request, std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  if (delay <= std::chrono::milliseconds::zero()) {
    AddLocked(request);
    return;
  }

  const TimePoint due = clock_.Now() + std::min(delay, kMaxDelay);
  auto [it, inserted] = due_.try_emplace(request, due);
  if (!inserted) {
    if (it->second <= due) return;
    it->second = due;  // the older heap entry is now stale and skipped when it surfaces
  }
  delayed_.push({due, next_sequence_++, request});
  // Waiters in Get() may sleep until a later due time; let them recompute it.
  cv_.notify_all();
}

void WorkQueue::AddRateLimited(const Request& request) {
  Duration delay;
  {
    std::lock_guard lock(mu_);
    delay = BackoffLocked(request);
  }
  AddAfter(request, std::chrono::ceil<std::chrono::milliseconds>(delay));
}

WorkQueue::Duration WorkQueue::BackoffLocked(const Request& request) {
  const int failures = failures_[request]++;
  const auto base = std::chrono::duration_cast<Duration>(options_.base_delay);
  const auto max = std::chrono::duration_cast<Duration>(options_.max_delay);
  // In floating point, so a long failure streak cannot overflow the shift.
  const double scaled = std::ldexp(static_cast<double>(base.count()), std::min(failures, 1000));
  if (scaled >= static_cast<double>(max.count())) return max;
  return Duration(static_cast<Duration::rep>(scaled));
}

void WorkQueue::Forget(const Request& request) {
  std::lock_guard lock(mu_);
  failures_.erase(request);
}

int WorkQueue::NumRequeues(const Request& request) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(request);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<Request> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  while (true) {
    if (shutting_down_) return std::nullopt;
    PromoteDueLocked();
    if (!queue_.empty()) break;
    if (delayed_.empty()) {
      cv_.wait(lock);
    } else {
      cv_.wait_for(lock, UntilNextDueLocked());
    }
  }

  Request request = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(request);
  processing_.insert(request);
  return request;
}

void WorkQueue::Done(const Request& request) {
  std::lock_guard lock(mu_);
  processing_.erase(request);
  if (shutting_down_ || !dirty_.contains(request)) return;
  queue_.push_back(request);
  cv_.notify_one();
}

size_t WorkQueue::Len() {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  return queue_.size();
}

void WorkQueue::Tick() {
  std::lock_guard lock(mu_);
  PromoteDueLocked();
  cv_.notify_all();
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  queue_.clear();
  dirty_.clear();
  delayed_ = {};
  due_.clear();
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

void WorkQueue::PromoteDueLocked() {
  const TimePoint now = clock_.Now();
  while (!delayed_.empty() && delayed_.top().due <= now) {
    Delayed entry = delayed_.top();
    delayed_.pop();
    auto it = due_.find(entry.request);
    if (it == due_.end() || it->second != entry.due) continue;  // stale: re-added with an earlier time
    due_.erase(it);
    AddLocked(entry.request);
  }
}

std::chrono::steady_clock::duration WorkQueue::UntilNextDueLocked() const {
  const Duration remaining = delayed_.top().due - clock_.Now();
  return std::max(std::chrono::duration_cast<std::chrono::steady_clock::duration>(remaining),
                  std::chrono::steady_clock::duration::zero());
}

}  // namespace xblocks::controllers
