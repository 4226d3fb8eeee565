// Reconciles an InstanceSet (workloads.kubeblocks.io) into pods named <its>-<ordinal>, as
// KubeBlocks 0.9 does with podManagementPolicy OrderedReady and maxUnavailable 1:
//   - scale out: creates the lowest missing ordinal once every lower pod is Ready, after the
//     pod's PVCs from spec.volumeClaimTemplates;
//   - scale in (and stop, replicas 0): deletes the highest ordinal first, one at a time;
//   - update: when every pod exists and is Ready, deletes the highest-ordinal pod whose
//     controller-revision-hash differs from the template's, and the scale-out rule recreates
//     it, so pods roll one at a time, each waiting for the previous to be Ready;
//   - status: replicas, readyReplicas, availableReplicas, updatedReplicas, currentRevision,
//     updateRevision and observedGeneration.
// PVCs are owned by the InstanceSet and outlive their pods. Scale in and stop keep them, so a pod
// created again with the same name gets its data back.
// Deletion: once the InstanceSet has a deletionTimestamp its pods are deleted, and its
// finalizers are removed when none remain. Its PVCs then go with it through garbage collection,
// unless the cluster's Halt termination released them first.
#pragma once

#include "client/client.h"
#include "controllers/informer.h"
#include "controllers/reconcile.h"

namespace xblocks::controllers {

class InstanceSetReconciler : public Reconciler {
 public:
  // The informers must watch InstanceSets and Pods in every namespace.
  InstanceSetReconciler(client::Client& client, const Informer& instance_sets, const Informer& pods)
      : client_(client), instance_sets_(instance_sets), pods_(pods) {}

  std::string_view name() const override { return "instanceset"; }
  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override;

 private:
  // The pods this InstanceSet owns, indexed by ordinal (-1 for names without one).
  std::vector<std::pair<int, Json>> OwnedPods(const Json& instance_set) const;
  Status Finalize(const Json& instance_set, const std::vector<std::pair<int, Json>>& pods,
                  const ReconcileContext& context);
  // Takes at most one step toward the desired pods; returns true when it changed something.
  // Creates the PVCs of pod `ordinal` that do not exist yet.
  Status CreateClaims(const Json& instance_set, int ordinal, const ReconcileContext& context);
  Result<bool> StepPods(const Json& instance_set, const std::vector<std::pair<int, Json>>& pods,
                        const ReconcileContext& context);
  Status UpdateStatus(const Json& instance_set, const std::vector<std::pair<int, Json>>& pods);

  client::Client& client_;
  const Informer& instance_sets_;
  const Informer& pods_;
};

}  // namespace xblocks::controllers
