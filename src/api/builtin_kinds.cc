#include "api/builtin_kinds.h"

#include <cctype>

namespace xblocks::api {
namespace {

struct BuiltinOptions {
  std::string group;
  std::string kind;
  std::string plural;
  bool namespaced = true;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  bool has_status = false;
  std::vector<PrinterColumn> columns;
};

ResourceType MakeBuiltin(BuiltinOptions options) {
  ResourceType type;
  type.group = std::move(options.group);
  type.version = "v1";
  type.kind = std::move(options.kind);
  type.plural = std::move(options.plural);
  type.singular = type.kind;
  for (char& c : type.singular) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  type.namespaced = options.namespaced;
  type.short_names = std::move(options.short_names);
  type.categories = std::move(options.categories);
  type.has_status = options.has_status;
  type.builtin = true;
  type.columns = std::move(options.columns);
  return type;
}

// A Table column of a built-in kind; cells come from that kind's printer function.
PrinterColumn Column(std::string name, int priority = 0, std::string type = "string") {
  PrinterColumn column;
  column.name = std::move(name);
  column.type = std::move(type);
  column.priority = priority;
  return column;
}

std::vector<ResourceType> CoreKinds() {
  std::vector<ResourceType> kinds;
  kinds.push_back(MakeBuiltin({"", "Namespace", "namespaces", false, {"ns"}, {}, true,
                               {Column("Status"), Column("Age")}}));
  kinds.push_back(MakeBuiltin({"", "Pod", "pods", true, {"po"}, {"all"}, true,
                               {Column("Ready"), Column("Status"), Column("Restarts"), Column("Age"),
                                Column("IP", 1), Column("Node", 1), Column("Nominated Node", 1),
                                Column("Readiness Gates", 1)}}));
  kinds.push_back(MakeBuiltin({"", "Service", "services", true, {"svc"}, {"all"}, true,
                               {Column("Type"), Column("Cluster-IP"), Column("External-IP"),
                                Column("Port(s)"), Column("Age"), Column("Selector", 1)}}));
  kinds.push_back(MakeBuiltin({"", "Endpoints", "endpoints", true, {"ep"}, {}, false,
                               {Column("Endpoints"), Column("Age")}}));
  kinds.back().singular = "endpoints";
  kinds.push_back(MakeBuiltin({"", "Secret", "secrets", true, {}, {}, false,
                               {Column("Type"), Column("Data", 0, "integer"), Column("Age")}}));
  kinds.push_back(MakeBuiltin({"", "ConfigMap", "configmaps", true, {"cm"}, {}, false,
                               {Column("Data", 0, "integer"), Column("Age")}}));
  kinds.push_back(MakeBuiltin({"", "ServiceAccount", "serviceaccounts", true, {"sa"}, {}, false,
                               {Column("Secrets", 0, "integer"), Column("Age")}}));
  kinds.push_back(MakeBuiltin({"", "PersistentVolumeClaim", "persistentvolumeclaims", true, {"pvc"}, {}, true,
                               {Column("Status"), Column("Volume"), Column("Capacity"),
                                Column("Access Modes"), Column("StorageClass"), Column("Age"),
                                Column("VolumeMode", 1)}}));
  kinds.push_back(MakeBuiltin({"", "Event", "events", true, {"ev"}, {}, false,
                               {Column("Last Seen"), Column("Type"), Column("Reason"), Column("Object"),
                                Column("Subobject", 1), Column("Source", 1), Column("Message"),
                                Column("First Seen", 1), Column("Count", 1), Column("Name", 1)}}));
  kinds.push_back(MakeBuiltin({"", "Node", "nodes", false, {"no"}, {}, true,
                               {Column("Status"), Column("Roles"), Column("Age"), Column("Version"),
                                Column("Internal-IP", 1), Column("External-IP", 1), Column("OS-Image", 1),
                                Column("Kernel-Version", 1), Column("Container-Runtime", 1)}}));
  return kinds;
}

}  // namespace

std::vector<ResourceType> BuiltinKinds() {
  std::vector<ResourceType> kinds = CoreKinds();
  const std::string rbac = "rbac.authorization.k8s.io";
  kinds.push_back(MakeBuiltin({rbac, "Role", "roles", true, {}, {}, false, {Column("Created At", 0, "date")}}));
  kinds.push_back(MakeBuiltin({rbac, "RoleBinding", "rolebindings", true, {}, {}, false,
                               {Column("Role"), Column("Age"), Column("Users", 1), Column("Groups", 1),
                                Column("ServiceAccounts", 1)}}));
  // Operator replicas elect their leader through a Lease, also when embedded mode serves the API.
  kinds.push_back(MakeBuiltin({"coordination.k8s.io", "Lease", "leases", true, {}, {}, false,
                               {Column("Holder"), Column("Age")}}));
  return kinds;
}

}  // namespace xblocks::api
