// The printer registry, shared cell helpers, and the printers of kinds with simple columns.
#include "api/table_printers.h"

#include <fmt/format.h>

#include <map>

#include "api/json_fields.h"

namespace xblocks::api {

const char* const kNameColumnDescription =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";

namespace {

PrinterColumn AgeColumn() { return TextColumn("Age", "Time since the object was created."); }

std::string Name(const Json& object) { return StringAt(object, "metadata.name"); }

std::string Age(const Json& object, TimePoint now) {
  return AgeAt(object, "metadata.creationTimestamp", now);
}

int64_t EntryCount(const Json& object, std::string_view path) {
  const Json* value = FindPath(object, path);
  if (value == nullptr || !(value->is_object() || value->is_array())) return 0;
  return static_cast<int64_t>(value->size());
}

// RoleBinding subjects by kind: users, groups, and service accounts as "namespace:name".
std::string SubjectNames(const Json& binding, std::string_view kind) {
  std::vector<std::string> names;
  for (const Json& subject : ArrayAt(binding, "subjects")) {
    if (StringAt(subject, "kind") != kind) continue;
    std::string name = StringAt(subject, "name");
    if (kind == "ServiceAccount") name = StringAt(subject, "namespace") + ":" + name;
    names.push_back(std::move(name));
  }
  return Join(names, ", ");
}

}  // namespace

PrinterColumn NameColumn() {
  return PrinterColumn{"Name", "string", "name", kNameColumnDescription, "", 0};
}

PrinterColumn TextColumn(std::string name, std::string description, int priority) {
  return PrinterColumn{std::move(name), "string", "", std::move(description), "", priority};
}

std::string AgeSince(std::string_view text, TimePoint now) {
  std::optional<TimePoint> time = ParseRfc3339(text);
  if (!time) return "<invalid>";
  return HumanDuration(std::chrono::duration_cast<std::chrono::seconds>(now - *time));
}

std::string AgeAt(const Json& object, std::string_view path, TimePoint now) {
  const Json* value = FindPath(object, path);
  if (value == nullptr || !value->is_string() || value->get_ref<const std::string&>().empty()) return "<unknown>";
  return AgeSince(value->get<std::string>(), now);
}

std::string OrNone(std::string text) { return text.empty() ? "<none>" : text; }

std::string Join(const std::vector<std::string>& parts, std::string_view separator) {
  return fmt::format("{}", fmt::join(parts, separator));
}

std::string FormatLabels(const Json& labels) {
  std::vector<std::string> pairs;
  if (labels.is_object()) {
    for (const auto& [key, value] : labels.items()) pairs.push_back(key + "=" + ScalarText(&value));
  }
  return OrNone(Join(pairs, ","));
}

BuiltinPrinter SecretPrinter() {
  return {{NameColumn(), TextColumn("Type", "The type of the secret."),
           TextColumn("Data", "The number of data entries in the secret."), AgeColumn()},
          [](const Json& o, TimePoint now) {
            return Json::array({Name(o), StringAt(o, "type"), EntryCount(o, "data"), Age(o, now)});
          }};
}

BuiltinPrinter ConfigMapPrinter() {
  return {{NameColumn(), TextColumn("Data", "The number of data and binaryData entries."), AgeColumn()},
          [](const Json& o, TimePoint now) {
            return Json::array({Name(o), EntryCount(o, "data") + EntryCount(o, "binaryData"), Age(o, now)});
          }};
}

BuiltinPrinter ServiceAccountPrinter() {
  return {{NameColumn(), TextColumn("Secrets", "The number of secrets the service account lists."), AgeColumn()},
          [](const Json& o, TimePoint now) {
            return Json::array({Name(o), EntryCount(o, "secrets"), Age(o, now)});
          }};
}

BuiltinPrinter NamespacePrinter() {
  return {{NameColumn(), TextColumn("Status", "The phase of the namespace: Active or Terminating."), AgeColumn()},
          [](const Json& o, TimePoint now) {
            std::string phase = StringAt(o, "status.phase");
            return Json::array({Name(o), phase.empty() ? "Active" : phase, Age(o, now)});
          }};
}

BuiltinPrinter RolePrinter() {
  return {{NameColumn(), TextColumn("Created At", "The time the object was created, in UTC.")},
          [](const Json& o, TimePoint) {
            std::optional<TimePoint> created = ParseRfc3339(StringAt(o, "metadata.creationTimestamp"));
            return Json::array({Name(o), created ? FormatRfc3339(*created) : "0001-01-01T00:00:00Z"});
          }};
}

BuiltinPrinter RoleBindingPrinter() {
  return {{NameColumn(), TextColumn("Role", "The referenced role, as Kind/name."), AgeColumn(),
           TextColumn("Users", "Users bound to the role.", 1),
           TextColumn("Groups", "Groups bound to the role.", 1),
           TextColumn("ServiceAccounts", "Service accounts bound to the role, as namespace:name.", 1)},
          [](const Json& o, TimePoint now) {
            std::string role = StringAt(o, "roleRef.kind") + "/" + StringAt(o, "roleRef.name");
            return Json::array({Name(o), role, Age(o, now), SubjectNames(o, "User"),
                                SubjectNames(o, "Group"), SubjectNames(o, "ServiceAccount")});
          }};
}

BuiltinPrinter LeasePrinter() {
  return {{NameColumn(), TextColumn("Holder", "The identity of the lease's current holder."), AgeColumn()},
          [](const Json& o, TimePoint now) {
            return Json::array({Name(o), StringAt(o, "spec.holderIdentity"), Age(o, now)});
          }};
}

const BuiltinPrinter* FindBuiltinPrinter(std::string_view kind) {
  static const std::map<std::string, BuiltinPrinter, std::less<>> kPrinters = {
      {"Pod", PodPrinter()},
      {"Service", ServicePrinter()},
      {"Endpoints", EndpointsPrinter()},
      {"Secret", SecretPrinter()},
      {"ConfigMap", ConfigMapPrinter()},
      {"ServiceAccount", ServiceAccountPrinter()},
      {"Namespace", NamespacePrinter()},
      {"PersistentVolumeClaim", PersistentVolumeClaimPrinter()},
      {"Event", EventPrinter()},
      {"Node", NodePrinter()},
      {"Role", RolePrinter()},
      {"ClusterRole", RolePrinter()},
      {"RoleBinding", RoleBindingPrinter()},
      {"ClusterRoleBinding", RoleBindingPrinter()},
      {"Lease", LeasePrinter()},
  };
  auto it = kPrinters.find(kind);
  return it == kPrinters.end() ? nullptr : &it->second;
}

}  // namespace xblocks::api
