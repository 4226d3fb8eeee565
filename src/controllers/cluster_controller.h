// Reconciles a Cluster (apps.kubeblocks.io/v1alpha1) as KubeBlocks 0.9 does:
//   - metadata: the cluster finalizer and the clusterdefinition/clusterversion labels;
//   - prechecks: the ClusterDefinition and ClusterVersion exist and are Available, else
//     condition ProvisioningStarted=False with the reason, retried every second;
//   - one Component per spec.componentSpecs entry (removed entries are deleted), and the
//     connection Secret;
//   - status: each component's phase, the cluster phase from them, conditions and
//     observedGeneration, with an Event for each component phase change
//     (ComponentPhaseTransition) and each condition change (the condition's reason).
// A cluster re-created while PVCs of an earlier one with its name remain goes on only when the
// earlier spec, which Halt stored on them, matches (condition HaltRecovery).
// Deletion follows spec.terminationPolicy. Every policy deletes the Components (and so the
// workloads) and the cluster's OpsRequests. Halt keeps the PVCs, Secrets and ConfigMaps labelled
// with the cluster, releasing the cluster's finalizer on them and their owner references to the
// cluster, its Components and its InstanceSets, while Delete and WipeOut delete those too. The
// finalizer goes once nothing the policy deletes remains.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "common/time.h"
#include "controllers/informer.h"
#include "controllers/reconcile.h"

namespace xblocks::controllers {

class ClusterReconciler : public Reconciler {
 public:
  // The informers watch Clusters, Components and, when given, Models in every namespace. With
  // Models, a Running cluster is Ready only once every Model declared for it is Ready, and the
  // condition ModelsReady counts them.
  ClusterReconciler(client::Client& client, const Informer& clusters, const Informer& components,
                    const Informer* models = nullptr)
      : client_(client), clusters_(clusters), components_(components), models_(models) {}

  std::string_view name() const override { return "cluster"; }
  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override;

 private:
  // Before the first reconcile: checks the PVCs that a Halt deletion of an earlier cluster with
  // this name kept (see halt_recovery.h). Returns false, after writing condition HaltRecovery=False
  // and a Warning Event, when the cluster must not go on.
  Result<bool> CheckHaltRecovery(const Json& cluster, const ReconcileContext& context);
  // Returns the precheck failure message, or "" when the definitions are ready.
  std::string Precheck(const Json& cluster, Json& definition);
  Status ApplyComponents(const Json& cluster, const ReconcileContext& context);
  Status ApplyConnectionSecret(const Json& cluster, const Json& definition);
  Status UpdateStatus(const Json& cluster, const std::string& precheck_failure);
  // Records an Event for each component phase change and each condition whose status or reason
  // changed between `old_status` and `status`.
  Status RecordTransitions(const Json& cluster, const Json& old_status, const Json& status);
  // Returns true once the cluster's finalizer was removed.
  Result<bool> Terminate(const Json& cluster, const ReconcileContext& context);
  std::vector<Json> OwnedComponents(const Json& cluster) const;
  // Deletes or, under Halt, preserves the PVCs, Secrets and ConfigMaps labelled with the
  // cluster. Returns the number of them that the policy deletes and that still exist, which is
  // always 0 under Halt.
  Result<size_t> RemoveData(const Json& cluster, const std::string& policy, const client::ListOptions& selector);
  // Deletes the Components, OpsRequests, Services, ServiceAccounts and RoleBindings labelled
  // with the cluster. Returns how many still exist.
  Result<size_t> RemoveWorkloads(const Json& cluster, const client::ListOptions& selector);
  // The uids of the cluster and of its Components and InstanceSets, which its deletion removes.
  Result<std::set<std::string>> RemovedOwners(const Json& cluster, const client::ListOptions& selector) const;

  client::Client& client_;
  SystemClock clock_;
  const Informer& clusters_;
  const Informer& components_;
  const Informer* models_;
};

}  // namespace xblocks::controllers
