// Halt recovery: whether a re-created Cluster may take over the PVCs that a Halt deletion of an
// earlier cluster with the same name kept.
//
// Halt keeps the PVCs, Secrets and ConfigMaps labelled with the cluster and stores the deleted
// cluster, as JSON, in each one's `apps.kubeblocks.io/last-applied-cluster` annotation. A new
// cluster of that name reuses those PVCs through their names, so KubeBlocks 0.9 lets it start only
// when its spec matches the stored one in everything that decides the data layout:
//   - clusterDefinitionRef;
//   - clusterVersionRef, unless the new cluster has the annotation
//     `clusters.apps.kubeblocks.io/allow-inconsistent-cv: "true"`;
//   - the number of components and, for each (by position), name, componentDefRef and replicas;
//   - unless `clusters.apps.kubeblocks.io/allow-inconsistent-resource: "true"`: each component's
//     volumeClaimTemplates, classDefRef and resources, with quantities compared by value.
// The check runs only before the cluster's first reconcile (status.observedGeneration 0), so a
// cluster that is already running never stops because of it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"

namespace xblocks::controllers {

inline constexpr const char* kLastAppliedClusterAnnotation = "apps.kubeblocks.io/last-applied-cluster";
inline constexpr const char* kAllowInconsistentCvAnnotation = "clusters.apps.kubeblocks.io/allow-inconsistent-cv";
inline constexpr const char* kAllowInconsistentResourceAnnotation =
    "clusters.apps.kubeblocks.io/allow-inconsistent-resource";

// The reason and message of a HaltRecovery=False condition.
struct HaltRecoveryFailure {
  std::string reason;  // UncleanedResources or HaltRecoveryFailed
  std::string message;
};

// Checks `cluster` against `pvcs`, the PVCs labelled with its name in its namespace. Returns no
// failure when there are none, when the first one was kept for this same cluster (same uid), or
// when the stored cluster's spec matches. Fails with UncleanedResources when the first PVC has no
// stored cluster. Fails with HaltRecoveryFailed when the stored cluster is not a JSON object or
// its spec differs, and then the message names the first differing field and the fix.
std::optional<HaltRecoveryFailure> CheckHaltRecovery(const Json& cluster, const std::vector<Json>& pvcs);

}  // namespace xblocks::controllers
