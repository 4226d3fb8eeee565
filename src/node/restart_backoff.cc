#include "node/restart_backoff.h"

#include <algorithm>

namespace xblocks {

RestartBackoff::RestartBackoff(const Clock& clock, RestartBackoffOptions options) : clock_(clock), options_(options) {}

void RestartBackoff::RecordStart() { started_ = clock_.Now(); }

void RestartBackoff::RecordExit() {
  TimePoint now = clock_.Now();
  bool ran_long = started_ && now - *started_ >= options_.reset_after;
  if (delay_ == std::chrono::seconds(0) || ran_long) {
    delay_ = options_.initial;
  } else {
    delay_ = std::min(delay_ * 2, options_.max);
  }
  started_.reset();
  next_start_ = now + delay_;
}

bool RestartBackoff::InBackOff() const { return clock_.Now() < next_start_; }

std::chrono::seconds RestartBackoff::Remaining() const {
  TimePoint now = clock_.Now();
  if (now >= next_start_) return std::chrono::seconds(0);
  // Round up, so "0 s left" never appears while a restart must still wait.
  return std::chrono::ceil<std::chrono::seconds>(next_start_ - now);
}

}  // namespace xblocks
