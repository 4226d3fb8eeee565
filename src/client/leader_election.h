// Leader election through a coordination.k8s.io/v1 Lease, so that of several operator replicas
// only one reconciles at a time. It follows client-go's leaderelection package:
//   - the leader writes its identity and spec.renewTime every retry period;
//   - another replica takes the lease over only when the lease record has not changed for a whole
//     lease duration, measured on its own monotonic clock, so clock skew between machines does
//     not matter;
//   - every write carries the resourceVersion it read, so two candidates that try at once cannot
//     both win: the second gets a conflict;
//   - a leader that cannot renew within the renew deadline stops leading, and a leader that stops
//     on purpose clears the holder so that another replica takes over at once.
//
// Thread-safety: TryAcquireOrRenew() and Release() may be called from any thread, one at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "client/client.h"

namespace xblocks::client {

struct LeaderElectionOptions {
  std::string lease_namespace;
  std::string lease_name;
  std::string identity;  // unique per replica, e.g. "<host>_<pid>"
  std::chrono::milliseconds lease_duration{15000};  // written to the Lease in whole seconds, at least 1
  std::chrono::milliseconds renew_deadline{10000};
  std::chrono::milliseconds retry_period{2000};
};

class LeaderElector {
 public:
  LeaderElector(Client& client, LeaderElectionOptions options);
  ~LeaderElector();

  // One attempt: creates the lease, renews it when this replica holds it, or takes it over when the
  // holder let it expire. Returns true when this replica holds the lease afterwards.
  bool TryAcquireOrRenew();

  // Runs in a background thread: tries every retry period until this replica leads, then calls
  // `on_started`, then renews every retry period. When renewal fails for the renew deadline it
  // calls `on_stopped` and ends. Call once.
  void Run(std::function<void()> on_started, std::function<void()> on_stopped);

  // Stops the background thread. When this replica leads, clears the holder so that another
  // replica takes over without waiting for the lease to expire.
  void Release();

  bool leading() const { return leading_.load(); }
  // The holder of the lease as last read, for logs.
  std::string observed_holder() const;

 private:
  void Loop(std::function<void()> on_started, std::function<void()> on_stopped);
  int64_t LeaseSeconds() const;
  // Sleeps for `period` or until Release(); returns false when released.
  bool Wait(std::chrono::steady_clock::duration period);

  Client& client_;
  const LeaderElectionOptions options_;
  std::atomic<bool> leading_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;                                // guarded by mu_
  std::string observed_record_;                          // guarded by mu_; holder and renewTime last read
  std::string observed_holder_;                          // guarded by mu_
  std::chrono::steady_clock::time_point observed_time_;  // guarded by mu_; when observed_record_ changed
  std::thread thread_;
};

}  // namespace xblocks::client
