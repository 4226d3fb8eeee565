// Builds a component's pod template the way KubeBlocks 0.9 does for the legacy componentDefRef
// API. Containers come from the ClusterDefinition's componentDef podSpec, and same-named
// containers of the ClusterVersion override their image and any other field. The component's
// resources go on the first container. The template also carries KubeBlocks' environment
// variables and labels, scheduling from the cluster's affinity and tolerations, and the
// component's ServiceAccount.
#pragma once

#include <string>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::controllers {

// The inputs a component is built from. `component_spec` is one entry of the Cluster's
// spec.componentSpecs; `definition` is the matching ClusterDefinition componentDef;
// `version` is the matching ClusterVersion componentVersion, or null without a ClusterVersion.
struct ComponentSource {
  Json cluster;
  Json component_spec;
  Json definition;
  Json version;
  std::string cluster_definition;  // the ClusterDefinition's name
};

// Finds the componentDef and componentVersion that `component_spec` names. kInvalid with a
// message naming the missing componentDefRef, as KubeBlocks reports it in the cluster status.
Result<ComponentSource> ResolveComponent(const Json& cluster, const Json& component_spec,
                                         const Json& cluster_definition, const Json& cluster_version);

// The labels shared by a component's workload, pods and services.
Json ComponentLabels(const ComponentSource& source);

// The pod template (metadata with labels, spec) of the component's InstanceSet.
Result<Json> BuildPodTemplate(const ComponentSource& source);

// The scheduling that the cluster's legacy `affinity` requests:
// - per topologyKey, a pod anti-affinity term against the component's own pods and a topology
//   spread constraint, both required or preferred as podAntiAffinity sets;
// - for tenancy DedicatedNode, a required anti-affinity on the hostname against every pod that
//   carries a KubeBlocks workload type;
// - for nodeLabels, a required node affinity with one `In` requirement per label, whose values
//   are the label's comma-separated list.
// Returns {"affinity": ..., "topologySpreadConstraints": [...]}, both possibly empty.
Json BuildScheduling(const Json& affinity, const std::string& cluster, const std::string& component);

}  // namespace xblocks::controllers
