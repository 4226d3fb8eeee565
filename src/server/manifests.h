// `xblocks manifests`: what installs operator mode on a Kubernetes cluster, as one YAML stream for
// `kubectl apply -f -`:
//   - the CRDs of every KubeBlocks kind that embedded mode serves, printed from the same files
//     that the embedded server loads its scheme from, so the two cannot drift;
//   - the namespace, ServiceAccount, ClusterRole and bindings that the operator needs, the Role
//     for its leader Lease, and the ClusterRole kubeblocks-cluster-pod-role that each
//     component's RoleBinding refers to;
//   - the operator's Deployment;
//   - a ValidatingAdmissionPolicy and its binding that reject deleting a Cluster whose
//     terminationPolicy is DoNotTerminate, as embedded mode's admission does;
//   - on request, the Xinference addon (its ClusterDefinition and ClusterVersions). kubectl cannot
//     map the addon's kinds before the CRDs in the same stream are established, so the addon is
//     a second `kubectl apply`.
#pragma once

#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::server {

struct ManifestOptions {
  std::string ns = "xblocks-system";
  std::string image = "xblocks:0.1.0";
  int replicas = 1;
  bool crds = true;
  bool operator_objects = true;  // namespace, RBAC, Deployment and admission policy
  bool addons = false;
};

// The objects in apply order: CRDs first, then the operator, then the addon.
Result<std::vector<Json>> BuildManifests(const ManifestOptions& options);

// The objects as one YAML stream, each document after a "---" line.
Result<std::string> RenderManifests(const ManifestOptions& options);

}  // namespace xblocks::server
