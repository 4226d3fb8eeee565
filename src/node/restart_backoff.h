// The restart delay of a crashing container, as kubelet's CrashLoopBackOff. The delay is 10 s
// after the first exit and doubles with each exit after a short run, up to 300 s. It goes back
// to 10 s once a container has run for 10 minutes. Pure logic over a Clock, so tests need no
// sleeping.
#pragma once

#include <chrono>
#include <optional>

#include "common/time.h"

namespace xblocks {

struct RestartBackoffOptions {
  std::chrono::seconds initial{10};
  std::chrono::seconds max{300};
  // A run at least this long resets the delay to `initial`.
  std::chrono::seconds reset_after{600};
};

// The backoff of one container. Not thread-safe; the clock must outlive it.
class RestartBackoff {
 public:
  explicit RestartBackoff(const Clock& clock, RestartBackoffOptions options = {});

  // Records that the container started now.
  void RecordStart();
  // Records that the container exited now, and computes the delay before the next start:
  // `initial` after the first exit or after a run of at least `reset_after`, else twice the
  // previous delay, at most `max`. An exit without a recorded start counts as a short run.
  void RecordExit();
  // Whether the delay after the last exit is still running, i.e. a restart must wait.
  bool InBackOff() const;
  // The delay computed by the last RecordExit, or zero before any exit.
  std::chrono::seconds Delay() const { return delay_; }
  // The time left until a restart may happen; zero when none is pending.
  std::chrono::seconds Remaining() const;
  // When the next start may happen; the epoch before any exit.
  TimePoint NextStart() const { return next_start_; }

 private:
  const Clock& clock_;
  RestartBackoffOptions options_;
  std::optional<TimePoint> started_;
  std::chrono::seconds delay_{0};
  TimePoint next_start_{};
};

}  // namespace xblocks
