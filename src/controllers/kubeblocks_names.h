// KubeBlocks 0.9's names, labels, annotations and finalizers for the objects a Cluster creates.
// Users and tools select on these (`kubectl get all -l app.kubernetes.io/instance=mycluster`), so
// they follow KubeBlocks exactly.
#pragma once

#include <string>

namespace xblocks::controllers::kb {

// Labels.
inline constexpr const char* kManagedByLabel = "app.kubernetes.io/managed-by";
inline constexpr const char* kManagedByValue = "kubeblocks";
inline constexpr const char* kInstanceLabel = "app.kubernetes.io/instance";
inline constexpr const char* kNameLabel = "app.kubernetes.io/name";
inline constexpr const char* kComponentLabel = "app.kubernetes.io/component";
inline constexpr const char* kVersionLabel = "app.kubernetes.io/version";
inline constexpr const char* kComponentNameLabel = "apps.kubeblocks.io/component-name";
inline constexpr const char* kClusterUidLabel = "apps.kubeblocks.io/cluster-uid";
inline constexpr const char* kPodNameLabel = "apps.kubeblocks.io/pod-name";
// On a pod: its componentDef's workloadType (Stateless, Stateful, Consensus, Replication).
inline constexpr const char* kWorkloadTypeLabel = "apps.kubeblocks.io/workload-type";
inline constexpr const char* kComponentDefinitionLabel = "componentdefinition.kubeblocks.io/name";
inline constexpr const char* kClusterDefinitionLabel = "clusterdefinition.kubeblocks.io/name";
inline constexpr const char* kClusterVersionLabel = "clusterversion.kubeblocks.io/name";
inline constexpr const char* kWorkloadManagedByLabel = "workloads.kubeblocks.io/managed-by";
inline constexpr const char* kWorkloadInstanceLabel = "workloads.kubeblocks.io/instance";
inline constexpr const char* kRevisionHashLabel = "controller-revision-hash";
// On a PVC: the volume claim template it was made from.
inline constexpr const char* kVolumeClaimTemplateLabel = "apps.kubeblocks.io/vct-name";

// The node label that makes each node its own topology domain.
inline constexpr const char* kHostnameTopologyKey = "kubernetes.io/hostname";

// Annotations.
inline constexpr const char* kGenerationAnnotation = "kubeblocks.io/generation";
inline constexpr const char* kRestartAnnotation = "kubeblocks.io/restart";
inline constexpr const char* kComponentReplicasAnnotation = "apps.kubeblocks.io/component-replicas";
inline constexpr const char* kOpsRequestAnnotation = "kubeblocks.io/ops-request";
inline constexpr const char* kOpsTypeLabel = "ops.kubeblocks.io/ops-type";

// Finalizers.
inline constexpr const char* kClusterFinalizer = "cluster.kubeblocks.io/finalizer";
inline constexpr const char* kComponentFinalizer = "component.kubeblocks.io/finalizer";
inline constexpr const char* kInstanceSetFinalizer = "instanceset.workloads.kubeblocks.io/finalizer";
inline constexpr const char* kOpsRequestFinalizer = "opsrequest.kubeblocks.io/finalizer";

// The ClusterRole every component ServiceAccount is bound to.
inline constexpr const char* kClusterPodRole = "kubeblocks-cluster-pod-role";

// Object names.
inline std::string ComponentName(const std::string& cluster, const std::string& component) {
  return cluster + "-" + component;
}
inline std::string InstanceSetName(const std::string& cluster, const std::string& component) {
  return ComponentName(cluster, component);
}
inline std::string PodName(const std::string& instance_set, int ordinal) {
  return instance_set + "-" + std::to_string(ordinal);
}
inline std::string ServiceName(const std::string& cluster, const std::string& component) {
  return ComponentName(cluster, component);
}
inline std::string HeadlessServiceName(const std::string& cluster, const std::string& component) {
  return ComponentName(cluster, component) + "-headless";
}
inline std::string ConnectionSecretName(const std::string& cluster) { return cluster + "-conn-credential"; }
inline std::string EnvConfigMapName(const std::string& cluster, const std::string& component) {
  return ComponentName(cluster, component) + "-env";
}
inline std::string InstanceSetEnvConfigMapName(const std::string& cluster, const std::string& component) {
  return ComponentName(cluster, component) + "-rsm-env";
}
inline std::string DefaultServiceAccountName(const std::string& cluster) { return "kb-" + cluster; }
inline std::string PvcName(const std::string& template_name, const std::string& pod) {
  return template_name + "-" + pod;
}

}  // namespace xblocks::controllers::kb
