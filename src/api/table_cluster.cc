// The Node, Event and PersistentVolumeClaim printers.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "api/json_fields.h"
#include "api/table_printers.h"
#include "common/quantity.h"

namespace xblocks::api {
namespace {

constexpr std::string_view kNodeRolePrefix = "node-role.kubernetes.io/";

std::string Age(const Json& object, TimePoint now) {
  return AgeAt(object, "metadata.creationTimestamp", now);
}

std::string NodeStatus(const Json& node) {
  std::vector<std::string> status;
  for (const Json& condition : ArrayAt(node, "status.conditions")) {
    if (StringAt(condition, "type") != "Ready") continue;
    status = {StringAt(condition, "status") == "True" ? "Ready" : "NotReady"};
  }
  if (status.empty()) status.push_back("Unknown");
  const Json* unschedulable = FindPath(node, "spec.unschedulable");
  if (unschedulable != nullptr && *unschedulable == true) status.push_back("SchedulingDisabled");
  return Join(status, ",");
}

// Roles from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label.
std::string NodeRoles(const Json& node) {
  std::set<std::string> roles;
  for (const auto& [key, value] : ObjectAt(node, "metadata.labels").items()) {
    if (key.rfind(kNodeRolePrefix, 0) == 0 && key.size() > kNodeRolePrefix.size()) {
      roles.insert(key.substr(kNodeRolePrefix.size()));
    } else if (key == "kubernetes.io/role" && value.is_string() && !value.get<std::string>().empty()) {
      roles.insert(value.get<std::string>());
    }
  }
  return OrNone(Join(std::vector<std::string>(roles.begin(), roles.end()), ","));
}

std::string NodeAddress(const Json& node, std::string_view type) {
  for (const Json& address : ArrayAt(node, "status.addresses")) {
    if (StringAt(address, "type") == type) return StringAt(address, "address");
  }
  return "<none>";
}

std::string OrUnknown(std::string text) { return text.empty() ? "<unknown>" : text; }

Json NodeCells(const Json& node, TimePoint now) {
  return Json::array({StringAt(node, "metadata.name"), NodeStatus(node), NodeRoles(node), Age(node, now),
                      StringAt(node, "status.nodeInfo.kubeletVersion"), NodeAddress(node, "InternalIP"),
                      NodeAddress(node, "ExternalIP"), OrUnknown(StringAt(node, "status.nodeInfo.osImage")),
                      OrUnknown(StringAt(node, "status.nodeInfo.kernelVersion")),
                      OrUnknown(StringAt(node, "status.nodeInfo.containerRuntimeVersion"))});
}

std::string EventSource(const Json& event) {
  std::string component = StringAt(event, "source.component");
  if (component.empty()) component = StringAt(event, "reportingComponent");
  std::string host = StringAt(event, "source.host");
  if (host.empty()) host = StringAt(event, "reportingInstance");
  if (component.empty()) return "";
  return host.empty() ? component : component + ", " + host;
}

std::string TrimSpace(const std::string& text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

std::string LowerCase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

Json EventCells(const Json& event, TimePoint now) {
  // Events written through events.k8s.io/v1 carry eventTime and series instead of the
  // first/last timestamps and count.
  std::string first_seen = StringAt(event, "firstTimestamp").empty() ? AgeAt(event, "eventTime", now)
                                                                     : AgeAt(event, "firstTimestamp", now);
  std::string last_seen = StringAt(event, "lastTimestamp").empty() ? first_seen : AgeAt(event, "lastTimestamp", now);
  int64_t count = IntAt(event, "count");
  if (FindPath(event, "series") != nullptr && FindPath(event, "series")->is_object()) {
    last_seen = AgeAt(event, "series.lastObservedTime", now);
    count = IntAt(event, "series.count");
  } else if (count == 0) {
    count = 1;
  }
  std::string kind = LowerCase(StringAt(event, "involvedObject.kind"));
  std::string name = StringAt(event, "involvedObject.name");
  std::string object = name.empty() ? kind : kind + "/" + name;
  return Json::array({last_seen, StringAt(event, "type"), StringAt(event, "reason"), object,
                      StringAt(event, "involvedObject.fieldPath"), EventSource(event),
                      TrimSpace(StringAt(event, "message")), first_seen, count,
                      StringAt(event, "metadata.name")});
}

std::string AccessModes(const Json& claim) {
  std::set<std::string> modes;
  for (const Json& mode : ArrayAt(claim, "status.accessModes")) {
    if (mode.is_string()) modes.insert(mode.get<std::string>());
  }
  static constexpr std::pair<const char*, const char*> kShortNames[] = {
      {"ReadWriteOnce", "RWO"}, {"ReadOnlyMany", "ROX"}, {"ReadWriteMany", "RWX"}, {"ReadWriteOncePod", "RWOP"}};
  std::vector<std::string> out;
  for (const auto& [mode, short_name] : kShortNames) {
    if (modes.count(mode) != 0) out.push_back(short_name);
  }
  return Join(out, ",");
}

// A storage quantity in canonical form; unparseable text is shown as it is.
std::string StorageText(const Json& claim, std::string_view path) {
  std::string text = StringAt(claim, path);
  Result<Quantity> quantity = ParseQuantity(text);
  return quantity.ok() ? quantity->CanonicalString() : text;
}

std::string StorageClass(const Json& claim) {
  // The beta annotation predates spec.storageClassName and still takes precedence.
  const Json& annotations = ObjectAt(claim, "metadata.annotations");
  auto annotation = annotations.find("volume.beta.kubernetes.io/storage-class");
  if (annotation != annotations.end() && annotation->is_string()) return annotation->get<std::string>();
  return StringAt(claim, "spec.storageClassName");
}

Json ClaimCells(const Json& claim, TimePoint now) {
  const Json* deletion = FindPath(claim, "metadata.deletionTimestamp");
  std::string phase = deletion != nullptr && !deletion->is_null() ? "Terminating" : StringAt(claim, "status.phase");
  std::string volume = StringAt(claim, "spec.volumeName");
  // Capacity and access modes come from the bound volume, so they are empty until binding.
  std::string capacity = volume.empty() ? "" : StorageText(claim, "status.capacity.storage");
  std::string modes = volume.empty() ? "" : AccessModes(claim);
  std::string attributes_class = StringAt(claim, "spec.volumeAttributesClassName");
  std::string volume_mode = StringAt(claim, "spec.volumeMode");
  return Json::array({StringAt(claim, "metadata.name"), phase, volume, capacity, modes, StorageClass(claim),
                      attributes_class.empty() ? "<unset>" : attributes_class, Age(claim, now),
                      volume_mode.empty() ? "<unset>" : volume_mode});
}

}  // namespace

BuiltinPrinter NodePrinter() {
  return {{NameColumn(), TextColumn("Status", "Ready, NotReady or Unknown, and SchedulingDisabled when cordoned."),
           TextColumn("Roles", "Roles from node-role.kubernetes.io labels."),
           TextColumn("Age", "Time since the object was created."),
           TextColumn("Version", "The kubelet version the node reports."),
           TextColumn("Internal-IP", "The node's first InternalIP address.", 1),
           TextColumn("External-IP", "The node's first ExternalIP address.", 1),
           TextColumn("OS-Image", "The operating system image the node reports.", 1),
           TextColumn("Kernel-Version", "The kernel version the node reports.", 1),
           TextColumn("Container-Runtime", "The container runtime version the node reports.", 1)},
          NodeCells};
}

BuiltinPrinter EventPrinter() {
  PrinterColumn name_column = NameColumn();
  name_column.priority = 1;
  return {{TextColumn("Last Seen", "Time since the event was last seen."),
           TextColumn("Type", "Normal or Warning."),
           TextColumn("Reason", "A short machine-readable reason for the event."),
           TextColumn("Object", "The object the event is about, as kind/name."),
           TextColumn("Subobject", "The part of the object the event is about, such as a container.", 1),
           TextColumn("Source", "The component, and host, that reported the event.", 1),
           TextColumn("Message", "A human-readable description of the event."),
           TextColumn("First Seen", "Time since the event was first seen.", 1),
           TextColumn("Count", "How many times the event occurred.", 1), name_column},
          EventCells};
}

BuiltinPrinter PersistentVolumeClaimPrinter() {
  return {{NameColumn(), TextColumn("Status", "The phase of the claim: Pending, Bound or Lost, or Terminating."),
           TextColumn("Volume", "The name of the bound volume."),
           TextColumn("Capacity", "The capacity of the bound volume."),
           TextColumn("Access Modes", "Access modes of the bound volume: RWO, ROX, RWX, RWOP."),
           TextColumn("StorageClass", "The storage class of the claim."),
           TextColumn("VolumeAttributesClass", "The volume attributes class of the claim."),
           TextColumn("Age", "Time since the object was created."),
           TextColumn("VolumeMode", "Filesystem or Block.", 1)},
          ClaimCells};
}

}  // namespace xblocks::api
