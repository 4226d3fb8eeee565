#include "controllers/pod_template.h"

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "controllers/kubeblocks_names.h"

namespace xblocks::controllers {
namespace {

// The entry of `list` whose `key` equals `value`, or null.
Json FindByKey(const Json& list, const char* key, const std::string& value) {
  if (!list.is_array()) return nullptr;
  for (const auto& item : list) {
    if (api::StringMemberOf(item, key) == value) return item;
  }
  return nullptr;
}

Json FieldRefEnv(const std::string& name, const std::string& path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"apiVersion", "v1"}, {"fieldPath", path}}}}}};
}

// The variables KubeBlocks injects into every container, read from the pod by fieldRef.
Json KubeBlocksEnv(const std::string& cluster, const std::string& component) {
  Json env = Json::array({
      FieldRefEnv("KB_POD_NAME", "metadata.name"),
      FieldRefEnv("KB_POD_UID", "metadata.uid"),
      FieldRefEnv("KB_NAMESPACE", "metadata.namespace"),
      FieldRefEnv("KB_SA_NAME", "spec.serviceAccountName"),
      FieldRefEnv("KB_NODENAME", "spec.nodeName"),
      FieldRefEnv("KB_HOST_IP", "status.hostIP"),
      FieldRefEnv("KB_POD_IP", "status.podIP"),
      FieldRefEnv("KB_POD_IPS", "status.podIPs"),
      FieldRefEnv("KB_HOSTIP", "status.hostIP"),
      FieldRefEnv("KB_PODIP", "status.podIP"),
      FieldRefEnv("KB_PODIPS", "status.podIPs"),
  });
  env.push_back({{"name", "KB_POD_FQDN"},
                 {"value", fmt::format("$(KB_POD_NAME).{}.$(KB_NAMESPACE).svc",
                                       kb::HeadlessServiceName(cluster, component))}});
  return env;
}

// Merges the ClusterVersion's container into the ClusterDefinition's: set fields override.
Json MergeContainer(Json base, const Json& override) {
  if (!override.is_object()) return base;
  for (const auto& [key, value] : override.items()) base[key] = value;
  return base;
}

Json BuildContainers(const ComponentSource& source, const std::string& cluster, const std::string& component) {
  const Json& pod_spec = api::MemberOf(source.definition, "podSpec");
  Json containers = Json::array();
  const Json& versioned = api::MemberOf(api::MemberOf(source.version, "versionsContext"), "containers");
  for (const auto& container : api::MemberOf(pod_spec, "containers")) {
    Json merged = MergeContainer(container, FindByKey(versioned, "name", api::StringMemberOf(container, "name")));
    Json env = KubeBlocksEnv(cluster, component);
    for (const auto& item : api::MemberOf(merged, "env")) env.push_back(item);
    merged["env"] = env;
    merged["envFrom"] = Json::array(
        {{{"configMapRef", {{"name", kb::EnvConfigMapName(cluster, component)}, {"optional", false}}}},
         {{"configMapRef", {{"name", kb::InstanceSetEnvConfigMapName(cluster, component)}, {"optional", false}}}}});
    containers.push_back(std::move(merged));
  }
  // The component's resources apply to the first container only, as in KubeBlocks.
  const Json& resources = api::MemberOf(source.component_spec, "resources");
  if (!containers.empty() && resources.is_object()) containers[0]["resources"] = resources;
  return containers;
}

}  // namespace

Result<ComponentSource> ResolveComponent(const Json& cluster, const Json& component_spec,
                                         const Json& cluster_definition, const Json& cluster_version) {
  const std::string def_ref = api::StringMemberOf(component_spec, "componentDefRef");
  if (def_ref.empty()) {
    return Invalid(fmt::format("component {}: componentDefRef is required; componentDef (the 0.9 topology API) "
                               "is not supported yet",
                               api::StringMemberOf(component_spec, "name")));
  }
  Json definition = FindByKey(api::MemberOf(api::MemberOf(cluster_definition, "spec"), "componentDefs"), "name", def_ref);
  if (definition.is_null()) {
    return Invalid(fmt::format("spec.componentSpecs[*].componentDefRef {} not found in "
                               "ClusterDefinition.spec.componentDefs[*].name",
                               def_ref));
  }
  Json version = FindByKey(api::MemberOf(api::MemberOf(cluster_version, "spec"), "componentVersions"), "componentDefRef", def_ref);
  return ComponentSource{cluster, component_spec, std::move(definition), std::move(version),
                         apiserver::Name(cluster_definition)};
}

Json ComponentLabels(const ComponentSource& source) {
  return {{kb::kManagedByLabel, kb::kManagedByValue},
          {kb::kNameLabel, source.cluster_definition},
          {kb::kInstanceLabel, apiserver::Name(source.cluster)},
          {kb::kComponentNameLabel, api::StringMemberOf(source.component_spec, "name")}};
}

Json BuildScheduling(const Json& affinity, const std::string& cluster, const std::string& component) {
  Json out = {{"affinity", Json::object()}, {"topologySpreadConstraints", Json::array()}};
  const bool required = api::StringMemberOf(affinity, "podAntiAffinity") == "Required";
  const Json selector = {{"matchLabels", {{kb::kInstanceLabel, cluster}, {kb::kComponentNameLabel, component}}}};
  Json required_terms = Json::array();
  Json preferred_terms = Json::array();
  for (const auto& key : api::ArrayAt(affinity, "topologyKeys")) {
    if (!key.is_string()) continue;
    Json term = {{"labelSelector", selector}, {"topologyKey", key}};
    if (required) {
      required_terms.push_back(std::move(term));
    } else {
      preferred_terms.push_back({{"weight", 100}, {"podAffinityTerm", std::move(term)}});
    }
    out["topologySpreadConstraints"].push_back({{"maxSkew", 1},
                                                {"topologyKey", key},
                                                {"whenUnsatisfiable", required ? "DoNotSchedule" : "ScheduleAnyway"},
                                                {"labelSelector", selector}});
  }
  // A dedicated node holds no pod of another KubeBlocks workload, this component's included.
  if (api::StringMemberOf(affinity, "tenancy") == "DedicatedNode") {
    required_terms.push_back(
        {{"labelSelector",
          {{"matchExpressions", Json::array({{{"key", kb::kWorkloadTypeLabel},
                                              {"operator", "In"},
                                              {"values", {"Stateless", "Stateful", "Consensus", "Replication"}}}})}}},
         {"topologyKey", kb::kHostnameTopologyKey}});
  }
  if (!required_terms.empty()) {
    out["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = std::move(required_terms);
  }
  if (!preferred_terms.empty()) {
    out["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"] = std::move(preferred_terms);
  }

  // Every node label is a requirement of the same term, so a node must carry all of them. A
  // value "a,b" accepts either.
  Json expressions = Json::array();
  for (const auto& [key, value] : api::ObjectAt(affinity, "nodeLabels").items()) {
    if (!value.is_string()) continue;
    Json values = Json::array();
    const std::string& list = value.get_ref<const std::string&>();
    for (size_t start = 0;;) {
      const size_t comma = list.find(',', start);
      values.push_back(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    expressions.push_back({{"key", key}, {"operator", "In"}, {"values", std::move(values)}});
  }
  if (!expressions.empty()) {
    out["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {"nodeSelectorTerms", Json::array({{{"matchExpressions", std::move(expressions)}}})}};
  }
  return out;
}

Result<Json> BuildPodTemplate(const ComponentSource& source) {
  const std::string cluster = apiserver::Name(source.cluster);
  const std::string component = api::StringMemberOf(source.component_spec, "name");
  Json containers = BuildContainers(source, cluster, component);
  if (containers.empty()) {
    return Invalid(fmt::format("componentDef {} defines no containers in podSpec", api::StringMemberOf(source.definition, "name")));
  }

  Json labels = ComponentLabels(source);
  labels[kb::kComponentLabel] = api::StringMemberOf(source.definition, "name");
  labels[kb::kVersionLabel] = "";
  const std::string workload_type = api::StringMemberOf(source.definition, "workloadType");
  if (!workload_type.empty()) labels[kb::kWorkloadTypeLabel] = workload_type;
  Json spec = api::MemberOf(source.definition, "podSpec");
  spec["containers"] = std::move(containers);

  // Component-level affinity and tolerations win over the cluster's, as in KubeBlocks.
  const Json& cluster_spec = api::MemberOf(source.cluster, "spec");
  const Json& affinity = api::MemberOf(source.component_spec, "affinity").is_object() ? api::MemberOf(source.component_spec, "affinity")
                                                                             : api::MemberOf(cluster_spec, "affinity");
  Json scheduling = BuildScheduling(affinity, cluster, component);
  if (!scheduling["affinity"].empty()) spec["affinity"] = scheduling["affinity"];
  if (!scheduling["topologySpreadConstraints"].empty()) {
    spec["topologySpreadConstraints"] = scheduling["topologySpreadConstraints"];
  }
  const Json& tolerations = api::MemberOf(source.component_spec, "tolerations");
  const Json& cluster_tolerations = api::MemberOf(cluster_spec, "tolerations");
  if (tolerations.is_array() && !tolerations.empty()) {
    spec["tolerations"] = tolerations;
  } else if (cluster_tolerations.is_array() && !cluster_tolerations.empty()) {
    spec["tolerations"] = cluster_tolerations;
  }
  const std::string account = api::StringMemberOf(source.component_spec, "serviceAccountName");
  if (!account.empty()) spec["serviceAccountName"] = account;
  return Json{{"metadata", {{"labels", labels}}}, {"spec", spec}};
}

}  // namespace xblocks::controllers
