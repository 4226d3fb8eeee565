// Reconciles a Component (apps.kubeblocks.io) of the legacy componentDefRef API into its
// InstanceSet, Services, environment ConfigMaps, ServiceAccount and RoleBinding, and reports its
// phase from the InstanceSet and pods.
//
// The Component's spec is its cluster's componentSpec (replicas, resources, stop,
// serviceAccountName, ...). The ClusterDefinition and ClusterVersion come from its Cluster,
// found by the app.kubernetes.io/instance label.
// The ServiceAccount and RoleBinding named by serviceAccountName are created only when absent,
// so clusters that name the same ServiceAccount share the one the first of them created.
// Deletion: deletes the InstanceSet and waits until it is gone, then removes the component
// finalizer. The other owned objects go with the Component through garbage collection.
#pragma once

#include "client/client.h"
#include "controllers/informer.h"
#include "controllers/pod_template.h"
#include "controllers/reconcile.h"

namespace xblocks::controllers {

class ComponentReconciler : public Reconciler {
 public:
  // The informers watch Components, InstanceSets and Pods in every namespace.
  ComponentReconciler(client::Client& client, const Informer& components, const Informer& instance_sets,
                      const Informer& pods)
      : client_(client), components_(components), instance_sets_(instance_sets), pods_(pods) {}

  std::string_view name() const override { return "component"; }
  ReconcileResult Reconcile(const Request& request, const ReconcileContext& context) override;

 private:
  Result<ComponentSource> Source(const Json& component);
  Status Finalize(const Json& component, const ReconcileContext& context);
  // Creates or updates the InstanceSet and the objects next to it; returns the InstanceSet.
  Result<Json> ApplyWorkload(const ComponentSource& source, const Json& component, const ReconcileContext& context);
  Status UpdatePhase(const Json& component, const Json& instance_set, const ReconcileContext& context);

  client::Client& client_;
  const Informer& components_;
  const Informer& instance_sets_;
  const Informer& pods_;
};

}  // namespace xblocks::controllers
