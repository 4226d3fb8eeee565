// The scheme: every resource type the API serves, with the names, scope, printer columns and
// structural schema that discovery, Table output, OpenAPI and admission use.
//
// KubeBlocks kinds are loaded from the CRD manifests compiled into the binary (deploy/crds/), so
// embedded mode and operator mode share one definition of each kind. Built-in kinds (pods,
// services, ...) are registered in code with the printer columns kube-apiserver uses.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// One additionalPrinterColumns entry. For built-in kinds `json_path` is empty and the Table
// cells come from a printer function (see table.h).
struct PrinterColumn {
  std::string name;
  std::string type;  // string, integer, number, boolean, date
  std::string format;
  std::string description;
  std::string json_path;
  int priority = 0;
};

struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;
  std::string kind;
  std::string plural;
  std::string singular;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<std::string> verbs = {"create", "delete", "deletecollection", "get", "list",
                                    "patch", "update", "watch"};
  bool has_status = false;      // a status subresource exists: spec writes ignore status and
                                // status writes ignore everything else
  bool builtin = true;          // false for CRD kinds: strategic merge patch is answered 415
  std::vector<PrinterColumn> columns;  // excluding the leading Name column
  std::optional<std::string> deprecation_warning;
  // The openAPIV3Schema of the kind (structural). Null for built-in kinds without a schema,
  // which are then accepted as they come, like an object with x-kubernetes-preserve-unknown-fields.
  Json schema;

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string ApiVersion() const { return GroupVersion(); }
  std::string ListKind() const { return kind + "List"; }
  // "clusters.apps.kubeblocks.io" or "pods": the qualified resource used in error messages.
  std::string QualifiedResource() const { return group.empty() ? plural : plural + "." + group; }
  // The URL prefix of the group version: "/api/v1" or "/apis/<group>/<version>".
  std::string PathPrefix() const { return group.empty() ? "/api/" + version : "/apis/" + group + "/" + version; }
  // The store key prefix of this resource: "/<group or core>/<plural>/".
  std::string KeyPrefix() const { return "/" + (group.empty() ? std::string("core") : group) + "/" + plural + "/"; }
};

class Scheme {
 public:
  // Registers the built-in kinds and the CRDs embedded in the binary. Fails with kInternal if an
  // embedded CRD does not parse, which is a build defect.
  static Result<Scheme> Load();

  // Parses one apiextensions.k8s.io/v1 CustomResourceDefinition into a ResourceType per served
  // version and adds them.
  Status AddCustomResourceDefinition(const Json& crd);
  void Add(ResourceType type);

  const ResourceType* Find(const std::string& group, const std::string& version,
                           const std::string& plural) const;
  const ResourceType* FindByKind(const std::string& api_version, const std::string& kind) const;
  const std::vector<ResourceType>& types() const { return types_; }
  // Group names in discovery order: core first, then the order groups were added.
  std::vector<std::string> Groups() const;

 private:
  std::vector<ResourceType> types_;
};

}  // namespace xblocks::api
