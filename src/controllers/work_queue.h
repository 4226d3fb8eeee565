// A deduplicating, rate-limited work queue of Requests, with the semantics controllers rely on:
//   - Dedupe: a Request added while it waits in the queue is queued once.
//   - Exclusivity: between Get() and Done() a Request is "processing". Adding it again then
//     marks it dirty, and Done() puts it back in the queue, so no two workers ever hold the same
//     Request and no change that arrived mid-reconcile is lost.
//   - Delays: AddAfter() keeps the Request in a timer heap until the clock reaches its due time.
//     A Request already waiting keeps the earlier of its two due times.
//   - Backoff: AddRateLimited() delays a Request by base_delay * 2^failures, capped at
//     max_delay, and counts the failure. Forget() resets the count.
//
// Time comes from the Clock given to the constructor. Get() waits on a condition variable until
// the earliest due time, converted to a wait on the steady clock. That is exact for a
// SystemClock. A FakeClock does not move by itself, so after a test advances it, the test calls
// Tick(), which moves due Requests into the queue and wakes the waiters.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/time.h"
#include "controllers/reconcile.h"

namespace xblocks::controllers {

// The backoff of AddRateLimited(): base_delay * 2^failures, capped at max_delay.
struct WorkQueueOptions {
  std::chrono::milliseconds base_delay{5};
  std::chrono::milliseconds max_delay{std::chrono::seconds(1000)};
};

class WorkQueue {
 public:
  using Options = WorkQueueOptions;

  // `clock` must outlive the queue.
  explicit WorkQueue(const Clock& clock, Options options = {});

  // Queues `request` unless it is already queued. A Request being processed is queued again
  // when its worker calls Done(). Ignored after ShutDown().
  void Add(const Request& request);
  // Queues `request` once `delay` has passed on the clock. A delay <= 0 queues it at once.
  void AddAfter(const Request& request, std::chrono::milliseconds delay);
  // AddAfter() with the request's backoff delay, and counts one more failure for it.
  void AddRateLimited(const Request& request);
  // Resets the failure count of `request`, so its next backoff starts at base_delay.
  void Forget(const Request& request);
  // The failures counted for `request` since its last Forget().
  int NumRequeues(const Request& request) const;

  // Waits for a queued Request and marks it processing. The caller must call Done() with it.
  // Returns nullopt once ShutDown() was called, even if Requests are still queued.
  std::optional<Request> Get();
  // Ends the processing of `request`, and queues it again if it was added meanwhile.
  void Done(const Request& request);

  // The number of Requests ready for Get(), after moving due delayed ones into the queue.
  // Requests being processed or still delayed are not counted.
  size_t Len();
  // Moves due delayed Requests into the queue and wakes all waiters in Get().
  void Tick();

  // Makes every waiting and later Get() return nullopt, and every later Add ignored. Delayed
  // Requests are dropped. Done() stays valid. Idempotent.
  void ShutDown();
  bool ShuttingDown() const;

 private:
  using Duration = TimePoint::duration;

  struct Delayed {
    TimePoint due;
    uint64_t sequence;  // breaks ties between equal due times in AddAfter() order
    Request request;
    bool operator>(const Delayed& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };

  // The next lines need mu_ held.
  void AddLocked(const Request& request);
  void PromoteDueLocked();
  std::chrono::steady_clock::duration UntilNextDueLocked() const;
  Duration BackoffLocked(const Request& request);

  const Clock& clock_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> queue_;                   // guarded by mu_; FIFO of ready Requests
  std::unordered_set<Request> dirty_;           // guarded by mu_; queued, or added while processing
  std::unordered_set<Request> processing_;      // guarded by mu_
  std::priority_queue<Delayed, std::vector<Delayed>, std::greater<>> delayed_;  // guarded by mu_
  std::unordered_map<Request, TimePoint> due_;  // guarded by mu_; the live due time per delayed Request
  std::unordered_map<Request, int> failures_;   // guarded by mu_
  uint64_t next_sequence_ = 0;                  // guarded by mu_
  bool shutting_down_ = false;                  // guarded by mu_
};

}  // namespace xblocks::controllers
