#include "controllers/component_objects.h"

#include <fmt/format.h>

#include "api/json_fields.h"
#include "apiserver/object_meta.h"
#include "common/base64.h"
#include "controllers/kubeblocks_names.h"

namespace xblocks::controllers {
namespace {

std::string StringAt(const Json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

std::string ClusterName(const ComponentSource& source) { return apiserver::Name(source.cluster); }
std::string ComponentShortName(const ComponentSource& source) { return StringAt(source.component_spec, "name"); }

Json Metadata(const std::string& name, const std::string& ns, Json labels, const Json& owner) {
  Json meta = {{"name", name}, {"namespace", ns}, {"labels", std::move(labels)}};
  if (!owner.is_null()) meta["ownerReferences"] = Json::array({ControllerReference(owner)});
  return meta;
}

Json InstanceSetSelector(const ComponentSource& source) {
  return {{kb::kManagedByLabel, kb::kManagedByValue},
          {kb::kNameLabel, source.cluster_definition},
          {kb::kInstanceLabel, ClusterName(source)},
          {kb::kComponentNameLabel, ComponentShortName(source)}};
}

// The component's volumeClaimTemplates ({name, labels, annotations, spec}) in the
// InstanceSet's PersistentVolumeClaim form ({metadata: {name, labels, annotations}, spec}).
Json InstanceSetClaimTemplates(const Json& component_spec) {
  Json templates = Json::array();
  for (const auto& entry : api::ArrayAt(component_spec, "volumeClaimTemplates")) {
    const std::string name = api::StringAt(entry, "name");
    if (name.empty()) continue;
    Json metadata = {{"name", name}};
    for (const char* key : {"labels", "annotations"}) {
      if (!api::ObjectAt(entry, key).empty()) metadata[key] = api::ObjectAt(entry, key);
    }
    templates.push_back({{"metadata", std::move(metadata)}, {"spec", api::ObjectAt(entry, "spec")}});
  }
  return templates;
}

// Adds `volume` to the pod spec, replacing a volume of the same name.
void SetPodVolume(Json& pod_spec, Json volume) {
  if (!pod_spec.contains("volumes") || !pod_spec["volumes"].is_array()) pod_spec["volumes"] = Json::array();
  for (Json& existing : pod_spec["volumes"]) {
    if (StringAt(existing, "name") == StringAt(volume, "name")) {
      existing = std::move(volume);
      return;
    }
  }
  pod_spec["volumes"].push_back(std::move(volume));
}

}  // namespace

Json ControllerReference(const Json& owner) {
  return {{"apiVersion", owner.value("apiVersion", "")},
          {"kind", owner.value("kind", "")},
          {"name", apiserver::Name(owner)},
          {"uid", apiserver::Uid(owner)},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

std::string TemplateHash(const Json& pod_template) {
  uint64_t hash = 1469598103934665603ULL;
  for (unsigned char c : pod_template.dump()) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return fmt::format("{:010x}", hash & 0xffffffffffULL);
}

Json BuildInstanceSet(const ComponentSource& source, const Json& component, const Json& pod_template, int replicas) {
  const std::string cluster = ClusterName(source);
  const std::string name = kb::InstanceSetName(cluster, ComponentShortName(source));
  Json labels = InstanceSetSelector(source);
  labels[kb::kComponentLabel] = StringAt(source.component_spec, "componentDefRef");
  Json its = {{"apiVersion", "workloads.kubeblocks.io/v1alpha1"},
              {"kind", "InstanceSet"},
              {"metadata", Metadata(name, apiserver::Namespace(source.cluster), labels, component)}};
  its["metadata"]["finalizers"] = {kb::kComponentFinalizer, kb::kInstanceSetFinalizer};
  its["metadata"]["annotations"] = {
      {kb::kGenerationAnnotation, std::to_string(component["metadata"].value("generation", 1))},
      {kb::kComponentLabel, StringAt(source.component_spec, "componentDefRef")}};
  Json tmpl = pod_template;
  const Json selector = InstanceSetSelector(source);
  for (const auto& [key, value] : selector.items()) tmpl["metadata"]["labels"][key] = value;
  tmpl["metadata"]["labels"][kb::kWorkloadManagedByLabel] = "InstanceSet";
  tmpl["metadata"]["labels"][kb::kWorkloadInstanceLabel] = name;
  its["spec"] = {{"replicas", replicas},
                 {"selector", {{"matchLabels", InstanceSetSelector(source)}}},
                 {"serviceName", kb::HeadlessServiceName(cluster, ComponentShortName(source))},
                 {"podManagementPolicy", "OrderedReady"},
                 {"updateStrategy", {{"type", "RollingUpdate"}}},
                 {"template", std::move(tmpl)}};
  Json claim_templates = InstanceSetClaimTemplates(source.component_spec);
  if (!claim_templates.empty()) its["spec"]["volumeClaimTemplates"] = std::move(claim_templates);
  return its;
}

Json BuildPod(const Json& instance_set, int ordinal) {
  const std::string its_name = apiserver::Name(instance_set);
  const std::string pod_name = kb::PodName(its_name, ordinal);
  const Json& tmpl = instance_set["spec"]["template"];
  Json labels = tmpl["metadata"].value("labels", Json::object());
  labels[kb::kRevisionHashLabel] = TemplateHash(tmpl);
  labels[kb::kPodNameLabel] = pod_name;
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", Metadata(pod_name, apiserver::Namespace(instance_set), labels, instance_set)},
              {"spec", tmpl["spec"]}};
  Json annotations = tmpl["metadata"].value("annotations", Json::object());
  annotations[kb::kComponentReplicasAnnotation] = std::to_string(instance_set["spec"].value("replicas", 0));
  pod["metadata"]["annotations"] = annotations;
  pod["spec"]["hostname"] = pod_name;
  pod["spec"]["subdomain"] = instance_set["spec"].value("serviceName", its_name + "-headless");
  for (const Json& claim_template : VolumeClaimTemplates(instance_set)) {
    const std::string volume = api::StringAt(claim_template, "metadata.name");
    SetPodVolume(pod["spec"], {{"name", volume}, {"persistentVolumeClaim", {{"claimName", kb::PvcName(volume, pod_name)}}}});
  }
  return pod;
}

Json BuildPersistentVolumeClaim(const Json& instance_set, const Json& claim_template, int ordinal) {
  const std::string pod_name = kb::PodName(apiserver::Name(instance_set), ordinal);
  const std::string volume = api::StringAt(claim_template, "metadata.name");
  Json labels = api::ObjectAt(instance_set, "spec.template.metadata.labels");
  for (const auto& [key, value] : api::ObjectAt(claim_template, "metadata.labels").items()) labels[key] = value;
  labels[kb::kVolumeClaimTemplateLabel] = volume;
  Json claim = {{"apiVersion", "v1"},
                {"kind", "PersistentVolumeClaim"},
                {"metadata", Metadata(kb::PvcName(volume, pod_name), apiserver::Namespace(instance_set), labels,
                                      instance_set)},
                {"spec", api::ObjectAt(claim_template, "spec")}};
  const Json& annotations = api::ObjectAt(claim_template, "metadata.annotations");
  if (!annotations.empty()) claim["metadata"]["annotations"] = annotations;
  return claim;
}

Json VolumeClaimTemplates(const Json& instance_set) {
  Json templates = Json::array();
  for (const auto& entry : api::ArrayAt(instance_set, "spec.volumeClaimTemplates")) {
    if (!api::StringAt(entry, "metadata.name").empty()) templates.push_back(entry);
  }
  return templates;
}

Json BuildService(const ComponentSource& source, const Json& component) {
  const Json& ports = source.definition.contains("service") ? source.definition["service"].value("ports", Json())
                                                            : Json();
  if (!ports.is_array() || ports.empty()) return nullptr;
  const std::string cluster = ClusterName(source);
  const std::string name = kb::ServiceName(cluster, ComponentShortName(source));
  Json labels = {{kb::kManagedByLabel, kb::kManagedByValue},
                 {kb::kInstanceLabel, cluster},
                 {kb::kComponentNameLabel, ComponentShortName(source)}};
  Json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", Metadata(name, apiserver::Namespace(source.cluster), labels, component)}};
  service["spec"] = {{"type", "ClusterIP"}, {"selector", labels}, {"ports", ports}};
  return service;
}

Json BuildHeadlessService(const ComponentSource& source, const Json& instance_set, const Json& pod_template) {
  Json ports = Json::array();
  for (const auto& container : pod_template["spec"].value("containers", Json::array())) {
    for (const auto& port : container.value("ports", Json::array())) {
      Json item = {{"port", port.value("containerPort", 0)}, {"protocol", port.value("protocol", "TCP")}};
      if (port.contains("name")) {
        item["name"] = port["name"];
        item["targetPort"] = port["name"];
      } else {
        item["targetPort"] = port.value("containerPort", 0);
      }
      ports.push_back(item);
    }
  }
  Json labels = InstanceSetSelector(source);
  labels[kb::kWorkloadManagedByLabel] = "InstanceSet";
  labels[kb::kWorkloadInstanceLabel] = apiserver::Name(instance_set);
  Json service = {{"apiVersion", "v1"},
                  {"kind", "Service"},
                  {"metadata", Metadata(instance_set["spec"].value("serviceName", ""), apiserver::Namespace(instance_set),
                                        labels, instance_set)}};
  service["spec"] = {{"clusterIP", "None"},
                     {"publishNotReadyAddresses", true},
                     {"selector", InstanceSetSelector(source)},
                     {"ports", ports}};
  return service;
}

Json BuildEnvConfigMap(const ComponentSource& source, const Json& component, int replicas) {
  const std::string cluster = ClusterName(source);
  const std::string uid = apiserver::Uid(source.cluster);
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", Metadata(kb::EnvConfigMapName(cluster, ComponentShortName(source)),
                                   apiserver::Namespace(source.cluster), InstanceSetSelector(source), component)}};
  cm["data"] = {{"KB_NAMESPACE", apiserver::Namespace(source.cluster)},
                {"KB_CLUSTER_NAME", cluster},
                {"KB_CLUSTER_UID", uid},
                {"KB_CLUSTER_UID_POSTFIX_8", uid.size() >= 8 ? uid.substr(uid.size() - 8) : uid},
                {"KB_CLUSTER_COMP_NAME", kb::ComponentName(cluster, ComponentShortName(source))},
                {"KB_COMP_NAME", ComponentShortName(source)},
                {"KB_COMP_REPLICAS", std::to_string(replicas)}};
  return cm;
}

Json BuildInstanceSetEnvConfigMap(const ComponentSource& source, const Json& instance_set, int replicas) {
  const std::string its = apiserver::Name(instance_set);
  const std::string headless = instance_set["spec"].value("serviceName", its + "-headless");
  std::string prefix = StringAt(source.component_spec, "componentDefRef");
  for (char& c : prefix) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string uid = apiserver::Uid(instance_set);
  Json data = {{"KB_ITS_N", std::to_string(replicas)},
               {"KB_REPLICA_COUNT", std::to_string(replicas)},
               {"KB_ITS_OWNER_UID", uid},
               {"KB_ITS_OWNER_UID_SUFFIX8", uid.size() >= 8 ? uid.substr(uid.size() - 8) : uid},
               {"KB_" + prefix + "_N", std::to_string(replicas)}};
  std::string pod_list;
  for (int i = 0; i < replicas; ++i) {
    const std::string pod = kb::PodName(its, i);
    const std::string host = pod + "." + headless;
    data["KB_ITS_" + std::to_string(i) + "_HOSTNAME"] = host;
    data["KB_" + std::to_string(i) + "_HOSTNAME"] = host;
    data["KB_" + prefix + "_" + std::to_string(i) + "_HOSTNAME"] = host;
    pod_list += (i == 0 ? "" : ",") + pod;
  }
  data["KB_POD_LIST"] = pod_list;
  Json cm = {{"apiVersion", "v1"},
             {"kind", "ConfigMap"},
             {"metadata", Metadata(kb::InstanceSetEnvConfigMapName(ClusterName(source), ComponentShortName(source)),
                                   apiserver::Namespace(instance_set), InstanceSetSelector(source), instance_set)},
             {"data", data}};
  return cm;
}

Json BuildServiceAccount(const ComponentSource& source, const Json& component) {
  Json labels = {{kb::kManagedByLabel, kb::kManagedByValue},
                 {kb::kNameLabel, source.cluster_definition},
                 {kb::kInstanceLabel, ClusterName(source)},
                 {kb::kComponentNameLabel, ""}};
  return {{"apiVersion", "v1"},
          {"kind", "ServiceAccount"},
          {"metadata", Metadata(StringAt(source.component_spec, "serviceAccountName"),
                                apiserver::Namespace(source.cluster), labels, component)}};
}

Json BuildRoleBinding(const ComponentSource& source, const Json& component) {
  Json binding = BuildServiceAccount(source, component);
  const std::string account = apiserver::Name(binding);
  binding["apiVersion"] = "rbac.authorization.k8s.io/v1";
  binding["kind"] = "RoleBinding";
  binding["roleRef"] = {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", kb::kClusterPodRole}};
  binding["subjects"] = {{{"kind", "ServiceAccount"}, {"name", account}, {"namespace", apiserver::Namespace(source.cluster)}}};
  return binding;
}

Json BuildConnectionSecret(const Json& cluster, const Json& cluster_definition, const std::string& random_password) {
  const std::string name = apiserver::Name(cluster);
  Json labels = {{kb::kManagedByLabel, kb::kManagedByValue},
                 {kb::kNameLabel, apiserver::Name(cluster_definition)},
                 {kb::kInstanceLabel, name}};
  Json secret = {{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"type", "Opaque"},
                 {"metadata", Metadata(kb::ConnectionSecretName(name), apiserver::Namespace(cluster), labels, cluster)},
                 {"data", Json::object()}};
  secret["metadata"]["finalizers"] = {kb::kClusterFinalizer};
  const Json& spec = cluster_definition.value("spec", Json::object());
  const Json credential = spec.value("connectionCredential", Json::object());
  for (const auto& [key, value] : credential.items()) {
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    const std::string placeholder = "$(RANDOM_PASSWD)";
    for (size_t at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder)) {
      text.replace(at, placeholder.size(), random_password);
    }
    secret["data"][key] = Base64Encode(text);
  }
  return secret;
}

}  // namespace xblocks::controllers
