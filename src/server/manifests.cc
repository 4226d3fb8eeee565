#include "server/manifests.h"

#include <fmt/format.h>

#include "api/yaml.h"
#include "common/embedded_files.h"
#include "controllers/kubeblocks_names.h"

namespace xblocks::server {
namespace {

constexpr const char* kName = "xblocks-operator";
constexpr const char* kPolicyName = "xblocks-do-not-terminate";

Json Labels() { return {{"app.kubernetes.io/name", "xblocks"}, {"app.kubernetes.io/component", "operator"}}; }

Json Metadata(const std::string& name, const std::string& ns = "") {
  Json metadata = {{"name", name}, {"labels", Labels()}};
  if (!ns.empty()) metadata["namespace"] = ns;
  return metadata;
}

Json Rule(Json groups, Json resources, Json verbs) {
  return {{"apiGroups", std::move(groups)}, {"resources", std::move(resources)}, {"verbs", std::move(verbs)}};
}

// Returns the rules for what the controllers read and write, and nothing more.
Json OperatorRules() {
  const Json all = {"get", "list", "watch", "create", "update", "patch", "delete"};
  const Json status_verbs = {"get", "update", "patch"};
  return Json::array({
      Rule({"apps.kubeblocks.io"}, {"clusters", "components", "opsrequests", "clusterdefinitions", "clusterversions"},
           all),
      Rule({"apps.kubeblocks.io"},
           {"clusters/status", "components/status", "opsrequests/status", "clusterdefinitions/status",
            "clusterversions/status"},
           status_verbs),
      Rule({"apps.kubeblocks.io"},
           {"clusters/finalizers", "components/finalizers", "opsrequests/finalizers",
            "clusterdefinitions/finalizers", "clusterversions/finalizers"},
           {"update"}),
      Rule({"workloads.kubeblocks.io"}, {"instancesets"}, all),
      Rule({"workloads.kubeblocks.io"}, {"instancesets/status"}, status_verbs),
      Rule({"workloads.kubeblocks.io"}, {"instancesets/finalizers"}, {"update"}),
      Rule({""}, {"pods", "services", "configmaps", "secrets", "serviceaccounts", "persistentvolumeclaims"}, all),
      // The models-ready readiness gate is a pod status condition.
      Rule({""}, {"pods/status"}, {"patch"}),
      Rule({""}, {"events"}, {"get", "list", "watch", "create", "update", "patch"}),
      Rule({"rbac.authorization.k8s.io"}, {"rolebindings"}, all),
      Rule({"xblocks.io"}, {"models"}, {"get", "list", "watch", "update", "patch"}),
      Rule({"xblocks.io"}, {"models/status"}, status_verbs),
      Rule({"xblocks.io"}, {"models/finalizers"}, {"update"}),
  });
}

std::vector<Json> OperatorObjects(const ManifestOptions& options) {
  const std::string& ns = options.ns;
  std::vector<Json> objects;
  objects.push_back({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", Metadata(ns)}});
  objects.push_back({{"apiVersion", "v1"}, {"kind", "ServiceAccount"}, {"metadata", Metadata(kName, ns)}});
  Json cluster_role = {{"apiVersion", "rbac.authorization.k8s.io/v1"},
                       {"kind", "ClusterRole"},
                       {"metadata", Metadata(kName)},
                       {"rules", OperatorRules()}};
  // Binding a role needs its permissions or the bind verb on it, so the operator may bind the
  // pod role to component ServiceAccounts without holding the pod role's permissions.
  cluster_role["rules"].push_back({{"apiGroups", {"rbac.authorization.k8s.io"}},
                                   {"resources", {"clusterroles"}},
                                   {"resourceNames", {controllers::kb::kClusterPodRole}},
                                   {"verbs", {"bind"}}});
  objects.push_back(cluster_role);
  objects.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "ClusterRoleBinding"},
                     {"metadata", Metadata(kName)},
                     {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", kName}}},
                     {"subjects", {{{"kind", "ServiceAccount"}, {"name", kName}, {"namespace", ns}}}}});
  objects.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "Role"},
                     {"metadata", Metadata(kName + std::string("-leader-election"), ns)},
                     {"rules", {Rule({"coordination.k8s.io"}, {"leases"}, {"get", "create", "update"}),
                                Rule({""}, {"events"}, {"create", "patch"})}}});
  objects.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "RoleBinding"},
                     {"metadata", Metadata(kName + std::string("-leader-election"), ns)},
                     {"roleRef",
                      {{"apiGroup", "rbac.authorization.k8s.io"},
                       {"kind", "Role"},
                       {"name", kName + std::string("-leader-election")}}},
                     {"subjects", {{{"kind", "ServiceAccount"}, {"name", kName}, {"namespace", ns}}}}});
  // What a replica may do with its own ServiceAccount: record Events, as KubeBlocks' pod role
  // allows. Xinference itself calls no Kubernetes API.
  objects.push_back({{"apiVersion", "rbac.authorization.k8s.io/v1"},
                     {"kind", "ClusterRole"},
                     {"metadata", Metadata(controllers::kb::kClusterPodRole)},
                     {"rules", {Rule({""}, {"events"}, {"create"})}}});

  Json container = {
      {"name", "operator"},
      {"image", options.image},
      {"command", {"xblocks"}},
      {"args", {"operator", "--leader-elect=true", "--lease-namespace", ns}},
      {"resources", {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}, {"limits", {{"memory", "1Gi"}}}}},
      {"securityContext",
       {{"allowPrivilegeEscalation", false},
        {"readOnlyRootFilesystem", true},
        {"capabilities", {{"drop", {"ALL"}}}}}}};
  objects.push_back(
      {{"apiVersion", "apps/v1"},
       {"kind", "Deployment"},
       {"metadata", Metadata(kName, ns)},
       {"spec",
        {{"replicas", options.replicas},
         {"selector", {{"matchLabels", Labels()}}},
         {"template",
          {{"metadata", {{"labels", Labels()}}},
           {"spec",
            {{"serviceAccountName", kName},
             {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", 65532}}},
             {"containers", {container}}}}}}}}});

  objects.push_back(
      {{"apiVersion", "admissionregistration.k8s.io/v1"},
       {"kind", "ValidatingAdmissionPolicy"},
       {"metadata", Metadata(kPolicyName)},
       {"spec",
        {{"failurePolicy", "Fail"},
         {"matchConstraints",
          {{"resourceRules",
            {{{"apiGroups", {"apps.kubeblocks.io"}},
              {"apiVersions", {"v1alpha1"}},
              {"operations", {"DELETE"}},
              {"resources", {"clusters"}}}}}}},
         {"validations",
          {{{"expression", "!has(oldObject.spec.terminationPolicy) || oldObject.spec.terminationPolicy != 'DoNotTerminate'"},
            {"message",
             "the deletion for a cluster with DoNotTerminate termination policy is denied; set "
             "spec.terminationPolicy to Delete, Halt or WipeOut first"},
            {"reason", "Forbidden"}}}}}}});
  objects.push_back({{"apiVersion", "admissionregistration.k8s.io/v1"},
                     {"kind", "ValidatingAdmissionPolicyBinding"},
                     {"metadata", Metadata(kPolicyName)},
                     {"spec", {{"policyName", kPolicyName}, {"validationActions", {"Deny"}}}}});
  return objects;
}

// The documents of every embedded file under `prefix`, in file order.
Result<std::vector<Json>> EmbeddedObjects(std::string_view prefix) {
  std::vector<Json> objects;
  for (const auto& file : EmbeddedFiles()) {
    if (file.path.rfind(prefix, 0) != 0) continue;
    auto documents = api::ParseYamlDocuments(file.content);
    if (!documents.ok()) return Internal(fmt::format("{}: {}", file.path, documents.status().message()));
    for (Json& object : *documents) objects.push_back(std::move(object));
  }
  return objects;
}

}  // namespace

Result<std::vector<Json>> BuildManifests(const ManifestOptions& options) {
  std::vector<Json> objects;
  if (options.crds) {
    auto crds = EmbeddedObjects("deploy/crds/");
    if (!crds.ok()) return crds.status();
    objects = std::move(*crds);
  }
  if (options.operator_objects) {
    for (Json& object : OperatorObjects(options)) objects.push_back(std::move(object));
  }
  if (options.addons) {
    auto addons = EmbeddedObjects("addons/");
    if (!addons.ok()) return addons.status();
    for (Json& object : *addons) objects.push_back(std::move(object));
  }
  return objects;
}

Result<std::string> RenderManifests(const ManifestOptions& options) {
  auto objects = BuildManifests(options);
  if (!objects.ok()) return objects.status();
  std::string out = "# xblocks operator mode. Install with: xblocks manifests | kubectl apply -f -\n";
  for (const Json& object : *objects) out += "---\n" + api::EmitYaml(object);
  return out;
}

}  // namespace xblocks::server
