#include "controllers/reconcile_controller.h"

#include <algorithm>
#include <exception>

#include <fmt/format.h>

namespace xblocks::controllers {
namespace {

std::string Milliseconds(std::chrono::steady_clock::duration elapsed) {
  return fmt::format("{:.3f}ms", std::chrono::duration<double, std::milli>(elapsed).count());
}

}  // namespace

ReconcileController::ReconcileController(Reconciler& reconciler, const Clock& clock, Options options)
    : reconciler_(reconciler), options_(options), queue_(clock, options.queue) {}

ReconcileController::~ReconcileController() { Stop(); }

void ReconcileController::Watches(Informer& informer, MapFn map) {
  Informer::Handlers handlers;
  handlers.on_add = [this, map](const Json& object) { Enqueue(map(object)); };
  handlers.on_update = [this, map](const Json& old_object, const Json& new_object) {
    // One Add per key: two Adds of the same key could reconcile it twice, because a worker
    // may take the first before the second arrives.
    std::vector<Request> requests = map(old_object);
    for (Request& request : map(new_object)) {
      if (std::find(requests.begin(), requests.end(), request) == requests.end()) requests.push_back(std::move(request));
    }
    Enqueue(requests);
  };
  handlers.on_delete = [this, map](const Json& object) { Enqueue(map(object)); };

  std::lock_guard lock(mu_);
  if (stopped_) return;  // a stopped controller would never unregister the handlers
  watches_.emplace_back(&informer, informer.AddHandlers(std::move(handlers)));
}

void ReconcileController::Enqueue(const std::vector<Request>& requests) {
  for (const Request& request : requests) queue_.Add(request);
}

Status ReconcileController::Start() {
  std::vector<Informer*> informers;
  {
    std::lock_guard lock(mu_);
    if (started_ || stopped_) {
      return BadRequest(fmt::format("controller {} was already started or stopped", reconciler_.name()));
    }
    started_ = true;
    for (const auto& [informer, id] : watches_) informers.push_back(informer);
  }

  // Reconciling from a partial cache would act on objects that seem missing.
  for (Informer* informer : informers) {
    if (informer->WaitForSync(options_.sync_timeout)) continue;
    return Status(StatusCode::kTimeout,
                  fmt::format("controller {}: the {} informer did not sync within {}ms; start it before the controller",
                              reconciler_.name(), informer->resource().plural, options_.sync_timeout.count()));
  }

  std::lock_guard lock(mu_);
  if (stopped_) return BadRequest(fmt::format("controller {} was stopped while starting", reconciler_.name()));
  const int workers = std::max(options_.workers, 1);
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { RunWorker(); });
  XB_LOG_INFO("controller started", {{"controller", std::string(reconciler_.name())}, {"workers", std::to_string(workers)}});
  return Status::Ok();
}

void ReconcileController::Stop() {
  std::vector<std::thread> workers;
  std::vector<std::pair<Informer*, Informer::HandlerId>> watches;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    workers.swap(workers_);
    watches.swap(watches_);
  }

  // Unregister first, so no informer thread touches the queue once it is shut down.
  for (const auto& [informer, id] : watches) informer->RemoveHandlers(id);
  queue_.ShutDown();
  for (std::thread& worker : workers) worker.join();
  if (!workers.empty()) XB_LOG_INFO("controller stopped", {{"controller", std::string(reconciler_.name())}});
}

ReconcileController::Stats ReconcileController::stats() const {
  return {done_.load(), requeue_after_.load(), retry_.load(), terminal_.load()};
}

void ReconcileController::RunWorker() {
  while (std::optional<Request> request = queue_.Get()) {
    ReconcileOne(*request);
    queue_.Done(*request);
  }
}

void ReconcileController::ReconcileOne(const Request& request) {
  const ReconcileContext context(reconciler_.name(), request, NewReconcileId());
  const auto started = std::chrono::steady_clock::now();
  const ReconcileResult result = InvokeReconciler(request, context);
  const auto elapsed = std::chrono::steady_clock::now() - started;

  ApplyResult(request, result, context);
  if (result.kind() == ReconcileResult::Kind::kRequeueAfter) {
    context.Debug("reconciled", {{"result", std::string(result.KindName())},
                                 {"duration", Milliseconds(elapsed)},
                                 {"requeue_after", fmt::format("{}ms", result.delay().count())}});
  } else {
    context.Debug("reconciled", {{"result", std::string(result.KindName())}, {"duration", Milliseconds(elapsed)}});
  }
}

ReconcileResult ReconcileController::InvokeReconciler(const Request& request, const ReconcileContext& context) {
  // Reconcilers must not throw, but a bug that does must not end the process.
  try {
    return reconciler_.Reconcile(request, context);
  } catch (const std::exception& e) {
    return ReconcileResult::Retry(Internal(fmt::format("the reconciler threw an exception: {}", e.what())));
  } catch (...) {
    return ReconcileResult::Retry(Internal("the reconciler threw an exception of unknown type"));
  }
}

// Counters move after the queue, so a test that reads a count may advance a FakeClock past the
// delay just queued.
void ReconcileController::ApplyResult(const Request& request, const ReconcileResult& result,
                                      const ReconcileContext& context) {
  switch (result.kind()) {
    case ReconcileResult::Kind::kDone:
      queue_.Forget(request);
      done_.fetch_add(1);
      break;
    case ReconcileResult::Kind::kRequeueAfter:
      queue_.Forget(request);
      queue_.AddAfter(request, result.delay());
      requeue_after_.fetch_add(1);
      break;
    case ReconcileResult::Kind::kRetry:
      // The namespace controller deletes the object together with its namespace; retrying
      // would only repeat the refusal until then.
      if (IsNamespaceTerminating(result.error())) {
        queue_.Forget(request);
        done_.fetch_add(1);
        context.Info("namespace is terminating, not retrying", {{"err", result.error().message()}});
        break;
      }
      queue_.AddRateLimited(request);
      retry_.fetch_add(1);
      context.Warn("reconcile failed, retrying with backoff",
                   {{"err", result.error().message()}, {"requeues", std::to_string(queue_.NumRequeues(request))}});
      break;
    case ReconcileResult::Kind::kTerminal:
      queue_.Forget(request);
      terminal_.fetch_add(1);
      context.Error("reconcile failed, not retrying until the object changes", {{"err", result.error().message()}});
      break;
  }
}

}  // namespace xblocks::controllers
