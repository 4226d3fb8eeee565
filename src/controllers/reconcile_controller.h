// Runs one Reconciler with N worker threads over a WorkQueue fed by informers. Each watched
// informer event is mapped to Requests and queued. Workers take Requests one at a time (never
// the same Request on two workers), call Reconcile() and apply its result:
//   Done         -> Forget (reset backoff)
//   RequeueAfter -> Forget, then AddAfter(delay)
//   Retry        -> AddRateLimited (exponential backoff), warn log with err
//   Terminal     -> Forget, error log with err; queued again only by the next informer event
// Every reconcile ends with one debug line "reconciled" carrying result and duration.
//
// Usage, for a controller that reconciles Components and the InstanceSets they own:
//
//   class ComponentReconciler : public Reconciler {
//    public:
//     std::string_view name() const override { return "component"; }
//     ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override {
//       auto component = components_.Get(request.ns, request.name);
//       if (!component) return ReconcileResult::Done();  // deleted; owned objects are collected
//       Status status = EnsureInstanceSet(*component);
//       if (!status.ok()) return ReconcileResult::Retry(status);
//       context.Debug("instanceset up to date");
//       return ReconcileResult::Done();
//     }
//     ...
//   };
//
//   Informer components(client, client::resources::kComponents);
//   Informer instance_sets(client, client::resources::kInstanceSets);
//   ComponentReconciler reconciler(client, components);
//   ReconcileController controller(reconciler, clock, {.workers = 2});
//   controller.Watches(components);                                // the Component's own key
//   controller.Watches(instance_sets, OwnerMapper("Component"));  // the owning Component
//   components.Start();
//   instance_sets.Start();
//   Status started = controller.Start();  // waits for both informers to sync
//   ...
//   controller.Stop();  // before the informers and the reconciler go away
//
// Lifetimes: the Reconciler, the Clock and every watched Informer must outlive the controller.
// Thread-safety: every public method may be called from any thread, except that Start() and
// Stop() must not be called from a worker (inside Reconcile()).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "controllers/informer.h"
#include "controllers/reconcile.h"
#include "controllers/request_mappers.h"
#include "controllers/work_queue.h"

namespace xblocks::controllers {

struct ReconcileControllerOptions {
  int workers = 1;  // values below 1 run one worker
  WorkQueueOptions queue;
  // The longest Start() waits for the watched informers' first lists.
  std::chrono::milliseconds sync_timeout{std::chrono::seconds(60)};
};

class ReconcileController {
 public:
  using Options = ReconcileControllerOptions;

  // Reconcile counts by result, e.g. for metrics and tests.
  struct Stats {
    int64_t done = 0;
    int64_t requeue_after = 0;
    int64_t retry = 0;
    int64_t terminal = 0;
  };

  ReconcileController(Reconciler& reconciler, const Clock& clock, Options options = {});
  // Calls Stop().
  ~ReconcileController();
  ReconcileController(const ReconcileController&) = delete;
  ReconcileController& operator=(const ReconcileController&) = delete;

  // Queues map(object) for every add, update (old and new object, so a changed owner or label
  // reaches both keys) and delete of `informer`. Objects already in a synced informer's cache
  // are queued at once.
  void Watches(Informer& informer, MapFn map = ObjectKeyMapper());

  // Waits until every watched informer has synced, then starts the workers. Returns kTimeout
  // naming the resource when an informer has not synced within sync_timeout (is it started?),
  // and kBadRequest when called twice or after Stop().
  Status Start();
  // Stops queueing, drops queued Requests, waits for in-flight reconciles to return and joins
  // the workers. Unregisters the informer handlers. Idempotent.
  void Stop();

  // The queue, so tests can Tick() it after advancing a FakeClock.
  WorkQueue& queue() { return queue_; }
  Stats stats() const;
  std::string_view name() const { return reconciler_.name(); }

 private:
  void RunWorker();
  void ReconcileOne(const Request& request);
  ReconcileResult InvokeReconciler(const Request& request, const ReconcileContext& context);
  void ApplyResult(const Request& request, const ReconcileResult& result, const ReconcileContext& context);
  void Enqueue(const std::vector<Request>& requests);

  Reconciler& reconciler_;
  const Options options_;
  WorkQueue queue_;

  std::mutex mu_;
  std::vector<std::pair<Informer*, Informer::HandlerId>> watches_;  // guarded by mu_
  std::vector<std::thread> workers_;                                 // guarded by mu_
  bool started_ = false;                                             // guarded by mu_
  bool stopped_ = false;                                             // guarded by mu_

  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> requeue_after_{0};
  std::atomic<int64_t> retry_{0};
  std::atomic<int64_t> terminal_{0};
};

}  // namespace xblocks::controllers
