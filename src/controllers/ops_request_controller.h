// Reconciles OpsRequests (apps.kubeblocks.io/v1alpha1) as KubeBlocks 0.9 does:
//   Pending -> Creating -> Running -> Succeed | Failed, with Cancelling -> Cancelled for a
//   cancelled scaling operation and Aborted for a timeout or a forced operation that overrides
//   a running one.
// Operations on one cluster run one at a time, in arrival order. They wait in the queue in the
// cluster's kubeblocks.io/ops-request annotation, and `force: true` skips the queue and the phase
// check (not for Start). When the head of the queue fails, the queued operations are cancelled.
// Every phase change writes a condition and an Event, and progress is `N/M` pods with one
// progressDetails entry per pod. Terminal operations are deleted after their TTL.
//
// Every step is idempotent and all state lives in the API, so a controller that restarts in
// the middle of an operation carries it on.
#pragma once

#include "client/client.h"
#include "common/time.h"
#include "controllers/informer.h"
#include "controllers/reconcile.h"

namespace xblocks::controllers {

class OpsRequestReconciler : public Reconciler {
 public:
  // `pods` watches the pods of every namespace, and `models`, when given, the Models: an
  // operation that recreates pods succeeds only once every Model of the cluster is served again
  // by the new pods.
  OpsRequestReconciler(client::Client& client, const Clock& clock, const Informer& pods,
                       const Informer* models = nullptr)
      : client_(client), clock_(clock), pods_(pods), models_(models) {}

  std::string_view name() const override { return "opsrequest"; }
  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override;

 private:
  client::Client& client_;
  const Clock& clock_;
  const Informer& pods_;
  const Informer* models_;
};

}  // namespace xblocks::controllers
