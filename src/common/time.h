// Time as the Kubernetes API writes it: RFC 3339 timestamps and the human durations of the
// AGE column. Also the Clock seam, so code that reads the time can be tested without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace xblocks {

using TimePoint = std::chrono::system_clock::time_point;

// Formats `time` as metav1.Time does: UTC, whole seconds (truncated toward the past), "Z",
// e.g. "2024-05-01T12:00:00Z".
std::string FormatRfc3339(TimePoint time);

// Parses an RFC 3339 timestamp: "YYYY-MM-DDTHH:MM:SS" with an optional fraction of any length
// (kept to nanoseconds), then "Z" or "+hh:mm"/"-hh:mm". Lower-case "t" and "z" are accepted, as
// RFC 3339 allows. Returns nullopt for anything else, for out-of-range fields (month 13, Feb 30,
// second 60), and for instants system_clock cannot hold (before 1678 or after 2261).
std::optional<TimePoint> ParseRfc3339(std::string_view text);

// Formats an elapsed time the way kubectl's AGE column shows it, e.g. "45s", "3m20s", "5h",
// "2d3h", "400d", "3y12d". Elapsed times of -1s and 0s print as "0s", and anything earlier as
// "<invalid>", so a small clock skew between machines still reads as "now".
std::string HumanDuration(std::chrono::seconds elapsed);

// The source of the current time. Implementations must be safe to call from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The wall clock (std::chrono::system_clock).
class SystemClock : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
};

// A clock that does not move until a test sets or advances it. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(TimePoint now = TimePoint()) : ticks_(now.time_since_epoch().count()) {}

  TimePoint Now() const override { return TimePoint(TimePoint::duration(ticks_.load())); }
  void Set(TimePoint now) { ticks_.store(now.time_since_epoch().count()); }
  void Advance(TimePoint::duration delta) { ticks_.fetch_add(delta.count()); }

 private:
  std::atomic<TimePoint::rep> ticks_;
};

}  // namespace xblocks
