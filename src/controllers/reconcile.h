// The reconcile contract. A Reconciler reads the current state of one object, named by a
// Request, and moves the world one step toward the desired state. It never acts on event
// payloads: a Request carries only the key, so a missed, merged or repeated trigger is harmless.
// It returns one of four ReconcileResults:
//   - Done(): the object converged; its rate-limit history is reset.
//   - RequeueAfter(d): reconcile again after `d`, e.g. to poll a slow external state.
//   - Retry(err): a retryable error; the key is requeued with per-key exponential backoff.
//   - Terminal(err): an error that retrying cannot fix (e.g. an invalid spec); it is logged at
//     error and the key waits until the object changes again.
//
// Thread-safety: Request, ReconcileResult and ReconcileContext are values. A Reconciler's
// Reconcile() is called from several worker threads at once, but never for the same Request
// at the same time.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <ostream>
#include <string>
#include <string_view>

#include "common/log.h"
#include "common/status.h"

namespace xblocks::controllers {

// The key of one object: its namespace ("" for cluster-scoped objects) and name.
struct Request {
  std::string ns;
  std::string name;

  bool operator==(const Request&) const = default;
  // "ns/name", or "name" when ns is empty, as Kubernetes' cache keys read.
  std::string ToString() const;
};

std::ostream& operator<<(std::ostream& out, const Request& request);

class ReconcileResult {
 public:
  enum class Kind { kDone, kRequeueAfter, kRetry, kTerminal };

  static ReconcileResult Done() { return ReconcileResult(Kind::kDone, {}, Status::Ok()); }
  // A delay <= 0 requeues at once.
  static ReconcileResult RequeueAfter(std::chrono::milliseconds delay) {
    return ReconcileResult(Kind::kRequeueAfter, delay, Status::Ok());
  }
  static ReconcileResult Retry(Status error) { return ReconcileResult(Kind::kRetry, {}, std::move(error)); }
  static ReconcileResult Terminal(Status error) { return ReconcileResult(Kind::kTerminal, {}, std::move(error)); }

  Kind kind() const { return kind_; }
  // The delay of RequeueAfter, or zero for the other kinds.
  std::chrono::milliseconds delay() const { return delay_; }
  // The error of Retry and Terminal, or ok for the other kinds.
  const Status& error() const { return error_; }
  // "done", "requeue_after", "retry" or "terminal", for logs.
  std::string_view KindName() const;

 private:
  ReconcileResult(Kind kind, std::chrono::milliseconds delay, Status error)
      : kind_(kind), delay_(delay), error_(std::move(error)) {}

  Kind kind_;
  std::chrono::milliseconds delay_;
  Status error_;
};

// Identifies one reconcile in logs. Its log methods prefix every line with the fields
// controller, namespace, name and reconcile_id, then the caller's fields:
//   context.Info("created service", {{"service", service_name}});
class ReconcileContext {
 public:
  ReconcileContext(std::string_view controller, Request request, std::string reconcile_id)
      : controller_(controller), request_(std::move(request)), reconcile_id_(std::move(reconcile_id)) {}

  std::string_view controller() const { return controller_; }
  const Request& request() const { return request_; }
  // A short random id, fresh for each reconcile, e.g. "3f9a1c07".
  const std::string& reconcile_id() const { return reconcile_id_; }

  void Debug(std::string_view message, std::initializer_list<log::Field> fields = {}) const;
  void Info(std::string_view message, std::initializer_list<log::Field> fields = {}) const;
  void Warn(std::string_view message, std::initializer_list<log::Field> fields = {}) const;
  void Error(std::string_view message, std::initializer_list<log::Field> fields = {}) const;

 private:
  // The line `message controller=.. namespace=.. name=.. reconcile_id=.. <fields>`.
  std::string Line(std::string_view message, std::initializer_list<log::Field> fields) const;

  std::string controller_;
  Request request_;
  std::string reconcile_id_;
};

// Returns 8 random lower-case hex digits. Thread-safe.
std::string NewReconcileId();

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // The controller name in logs, e.g. "cluster". Constant for the object's lifetime.
  virtual std::string_view name() const = 0;
  // Reconciles the object named by `request`, which may no longer exist (a deleted object is
  // reconciled too, so the reconciler can clean up). Must not throw: a thrown exception is
  // caught by the caller and treated as Retry with kInternal.
  virtual ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) = 0;
};

}  // namespace xblocks::controllers

template <>
struct std::hash<xblocks::controllers::Request> {
  size_t operator()(const xblocks::controllers::Request& request) const noexcept {
    const size_t ns_hash = std::hash<std::string>()(request.ns);
    const size_t name_hash = std::hash<std::string>()(request.name);
    return ns_hash ^ (name_hash + 0x9e3779b97f4a7c15ULL + (ns_hash << 6) + (ns_hash >> 2));
  }
};
