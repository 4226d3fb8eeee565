#include "controllers/ops_request_types.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/json_fields.h"
#include "common/quantity.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/phases.h"

namespace xblocks::controllers::ops {
namespace {

// The list of per-component entries of the operation's type: spec.restart, spec.verticalScaling ...
const Json& TypeList(const Json& ops) {
  static const std::map<std::string, const char*> kFields = {{"Restart", "restart"},
                                                             {"Stop", "stop"},
                                                             {"Start", "start"},
                                                             {"VerticalScaling", "verticalScaling"},
                                                             {"HorizontalScaling", "horizontalScaling"}};
  const Json& spec = api::MemberOf(ops, "spec");
  auto it = kFields.find(api::StringMemberOf(spec, "type"));
  static const Json kEmpty = Json::array();
  if (it == kFields.end()) return kEmpty;
  const Json& list = api::MemberOf(spec, it->second);
  return list.is_array() ? list : kEmpty;
}

const char* TypeField(const std::string& type) {
  if (type == "Restart") return "restart";
  if (type == "VerticalScaling") return "verticalScaling";
  if (type == "HorizontalScaling") return "horizontalScaling";
  return "";
}

Json* FindComponent(Json& cluster, const std::string& name) {
  Json& specs = cluster["spec"]["componentSpecs"];
  if (!specs.is_array()) return nullptr;
  for (auto& spec : specs) {
    if (api::StringMemberOf(spec, "name") == name) return &spec;
  }
  return nullptr;
}

const Json* FindComponent(const Json& cluster, const std::string& name) {
  const Json& specs = api::MemberOf(api::MemberOf(cluster, "spec"), "componentSpecs");
  if (!specs.is_array()) return nullptr;
  for (const auto& spec : specs) {
    if (api::StringMemberOf(spec, "name") == name) return &spec;
  }
  return nullptr;
}

const Json* FindEntry(const Json& ops, const std::string& component) {
  for (const auto& entry : TypeList(ops)) {
    if (api::StringMemberOf(entry, "componentName") == component) return &entry;
  }
  return nullptr;
}

int Replicas(const Json& component_spec) { return api::MemberOf(component_spec, "replicas").is_number_integer()
                                                       ? component_spec["replicas"].get<int>()
                                                       : 1; }

std::string ComponentPhase(const Json& cluster, const std::string& component) {
  return api::StringMemberOf(api::MemberOf(api::MemberOf(api::MemberOf(cluster, "status"), "components"), component.c_str()), "phase");
}

bool ValidResourceName(const std::string& name) {
  return name == "cpu" || name == "memory" || name.rfind("hugepages-", 0) == 0 ||
         name.find('/') != std::string::npos;
}

// Checks the requests and limits of one verticalScaling entry against the component's current
// resources, which the operation keeps for every key it does not set.
std::string ValidateResources(const Json& entry, const Json& component_spec) {
  Json merged = api::MemberOf(component_spec, "resources").is_object() ? component_spec["resources"] : Json::object();
  for (const char* kind : {"requests", "limits"}) {
    const Json& list = api::MemberOf(entry, kind);
    if (list.is_null()) continue;
    if (!list.is_object()) return fmt::format("spec.verticalScaling[].{} must be a map of resource to quantity", kind);
    for (const auto& [name, value] : list.items()) {
      if (!ValidResourceName(name)) {
        return fmt::format("invalid value for \"{}\": resource key is not cpu, memory, hugepages-* or a "
                           "domain-qualified extended resource such as nvidia.com/gpu",
                           name);
      }
      const std::string text = value.is_string() ? value.get<std::string>()
                               : value.is_number() ? value.dump()
                                                   : "";
      auto quantity = ParseQuantity(text);
      if (!quantity.ok()) {
        return fmt::format("invalid value for \"{}\" in {}.{}: {}; use a quantity such as 500m, 2 or 4Gi", text, kind,
                           name, quantity.status().message());
      }
      if (quantity->MilliValue() < 0) {
        return fmt::format("invalid value for \"{}\" in {}.{}: must be greater than or equal to 0", text, kind, name);
      }
      if (name == "memory" && quantity->MilliValue() % 1000 != 0) {
        return fmt::format("invalid value for \"{}\" in {}.memory: memory must be a whole number of bytes; use "
                           "a value such as 600Mi or 629145600",
                           text, kind);
      }
      merged[kind][name] = text;
    }
  }
  const Json& requests = api::MemberOf(merged, "requests");
  const Json& limits = api::MemberOf(merged, "limits");
  if (!requests.is_object() || !limits.is_object()) return "";
  for (const auto& [name, value] : requests.items()) {
    if (!limits.contains(name) || !value.is_string() || !limits[name].is_string()) continue;
    auto request = ParseQuantity(value.get<std::string>());
    auto limit = ParseQuantity(limits[name].get<std::string>());
    if (request.ok() && limit.ok() && request->MilliValue() > limit->MilliValue()) {
      return fmt::format("invalid value for \"{}\": must be less than or equal to {} limit ({})",
                         value.get<std::string>(), name, limits[name].get<std::string>());
    }
  }
  return "";
}

std::string ValidateHorizontal(const Json& entry, const Json& component_spec, const std::string& component) {
  const bool absolute = api::MemberOf(entry, "replicas").is_number();
  const bool relative = !api::MemberOf(entry, "scaleOut").is_null() || !api::MemberOf(entry, "scaleIn").is_null();
  if (absolute && relative) return "\"replicas\" has been deprecated and cannot be used with \"scaleOut\" and \"scaleIn\"";
  if (!absolute && !relative) {
    return fmt::format("spec.horizontalScaling[{}]: set replicas, scaleOut.replicaChanges or scaleIn.replicaChanges",
                       component);
  }
  if (absolute && entry["replicas"].get<int64_t>() < 0) {
    return fmt::format("spec.horizontalScaling[{}].replicas: must be greater than or equal to 0", component);
  }
  const int current = Replicas(component_spec);
  const int64_t in = api::MemberOf(api::MemberOf(entry, "scaleIn"), "replicaChanges").is_number_integer()
                         ? entry["scaleIn"]["replicaChanges"].get<int64_t>()
                         : 0;
  const int64_t out = api::MemberOf(api::MemberOf(entry, "scaleOut"), "replicaChanges").is_number_integer()
                          ? entry["scaleOut"]["replicaChanges"].get<int64_t>()
                          : 0;
  if (in < 0 || out < 0) return "\"replicaChanges\" must be greater than or equal to 0";
  if (in > current + out) {
    return fmt::format("\"scaleIn.replicaChanges\" can't be greater than {} for component \"{}\"", current + out,
                       component);
  }
  return "";
}

int TargetReplicas(const Json& entry, int current) {
  if (api::MemberOf(entry, "replicas").is_number_integer()) return entry["replicas"].get<int>();
  int replicas = current;
  if (api::MemberOf(api::MemberOf(entry, "scaleOut"), "replicaChanges").is_number_integer()) {
    replicas += entry["scaleOut"]["replicaChanges"].get<int>();
  }
  if (api::MemberOf(api::MemberOf(entry, "scaleIn"), "replicaChanges").is_number_integer()) {
    replicas -= entry["scaleIn"]["replicaChanges"].get<int>();
  }
  return std::max(replicas, 0);
}

int Ordinal(const std::string& pod) {
  const auto dash = pod.rfind('-');
  if (dash == std::string::npos) return -1;
  try {
    return std::stoi(pod.substr(dash + 1));
  } catch (const std::exception&) {
    return -1;
  }
}

// A pod that keeps failing: phase Failed, or a container in CrashLoopBackOff after 3 restarts.
bool PodBroken(const Json& pod) {
  const Json& status = api::MemberOf(pod, "status");
  if (api::StringMemberOf(status, "phase") == "Failed") return true;
  for (const auto& container : api::MemberOf(status, "containerStatuses").is_array() ? status["containerStatuses"]
                                                                              : Json::array()) {
    const std::string waiting = api::StringMemberOf(api::MemberOf(api::MemberOf(container, "state"), "waiting"), "reason");
    if (waiting == "CrashLoopBackOff" && container.value("restartCount", 0) >= 3) return true;
  }
  return false;
}

bool Deleting(const Json& pod) { return api::MemberOf(pod, "metadata").contains("deletionTimestamp"); }

}  // namespace

bool Supported(const std::string& type) {
  return type == "Stop" || type == "Start" || type == "Restart" || type == "VerticalScaling" ||
         type == "HorizontalScaling";
}

bool AllowedInPhase(const std::string& type, const std::string& phase) {
  static const std::map<std::string, std::set<std::string>> kAllowed = {
      {"Stop", {"Running", "Abnormal", "Failed", "Updating"}},
      {"Start", {"Running", "Abnormal", "Failed", "Updating", "Stopped", "Stopping"}},
      {"Restart", {"Running", "Abnormal", "Failed"}},
      {"VerticalScaling", {"Running", "Abnormal", "Failed"}},
      {"HorizontalScaling", {"Running", "Abnormal", "Failed"}},
  };
  auto it = kAllowed.find(type);
  return it != kAllowed.end() && it->second.count(phase) > 0;
}

bool Cancellable(const std::string& type) { return type == "VerticalScaling" || type == "HorizontalScaling"; }

std::vector<std::string> TargetComponents(const Json& ops, const Json& cluster) {
  std::vector<std::string> names;
  for (const auto& entry : TypeList(ops)) names.push_back(api::StringMemberOf(entry, "componentName"));
  const std::string type = api::StringMemberOf(api::MemberOf(ops, "spec"), "type");
  if (names.empty() && (type == "Stop" || type == "Start")) {
    const Json& specs = api::MemberOf(api::MemberOf(cluster, "spec"), "componentSpecs");
    for (const auto& spec : specs.is_array() ? specs : Json::array()) names.push_back(api::StringMemberOf(spec, "name"));
  }
  return names;
}

// Fields of KubeBlocks 0.9 that select instance templates or single pods. xblocks scales whole
// components only, so an entry that sets one fails validation instead of being half applied.
std::string UnsupportedField(const std::string& type, const Json& entry, const std::string& component) {
  struct Field {
    const char* type;
    const char* parent;  // "" for the entry itself
    const char* name;
  };
  static constexpr Field kFields[] = {
      {"VerticalScaling", "", "instances"},
      {"VerticalScaling", "", "claims"},
      {"HorizontalScaling", "", "shards"},
      {"HorizontalScaling", "", "instances"},
      {"HorizontalScaling", "scaleIn", "instances"},
      {"HorizontalScaling", "scaleIn", "onlineInstancesToOffline"},
      {"HorizontalScaling", "scaleOut", "instances"},
      {"HorizontalScaling", "scaleOut", "newInstances"},
      {"HorizontalScaling", "scaleOut", "offlineInstancesToOnline"},
  };
  for (const Field& field : kFields) {
    if (type != field.type) continue;
    const Json& parent = *field.parent == '\0' ? entry : api::MemberOf(entry, field.parent);
    const Json& value = api::MemberOf(parent, field.name);
    if (value.is_null() || (value.is_structured() && value.empty())) continue;
    const std::string path = *field.parent == '\0' ? field.name : fmt::format("{}.{}", field.parent, field.name);
    return fmt::format(
        "spec.{}[{}].{} is not supported: xblocks scales whole components, adding and removing pods from the "
        "highest ordinal; remove the field{}",
        TypeField(type), component, path, type == "HorizontalScaling" ? " and use replicaChanges" : "");
  }
  return "";
}

std::string Validate(const Json& ops, const Json& cluster) {
  const std::string type = api::StringMemberOf(api::MemberOf(ops, "spec"), "type");
  const char* field = TypeField(type);
  if (*field != '\0' && TypeList(ops).empty()) return fmt::format("\"spec.{}\" can not be empty", field);
  std::vector<std::string> unknown;
  for (const std::string& name : TargetComponents(ops, cluster)) {
    if (FindComponent(cluster, name) == nullptr) unknown.push_back(name);
  }
  if (!unknown.empty()) {
    return fmt::format("components: [{}] not found, in cluster.spec.componentSpecs; the cluster has: [{}]",
                       fmt::join(unknown, " "), fmt::join(TargetComponents(Json{{"spec", {{"type", "Stop"}}}}, cluster), " "));
  }
  for (const auto& entry : TypeList(ops)) {
    const std::string name = api::StringMemberOf(entry, "componentName");
    const Json& component = *FindComponent(cluster, name);
    std::string error = UnsupportedField(type, entry, name);
    if (!error.empty()) return error;
    if (type == "VerticalScaling") error = ValidateResources(entry, component);
    if (type == "HorizontalScaling") error = ValidateHorizontal(entry, component, name);
    if (!error.empty()) return error;
  }
  return "";
}

Json LastConfiguration(const Json& ops, const Json& cluster) {
  Json components = Json::object();
  for (const std::string& name : TargetComponents(ops, cluster)) {
    const Json* spec = FindComponent(cluster, name);
    if (spec == nullptr) continue;
    Json entry = {{"replicas", Replicas(*spec)}};
    const Json& resources = api::MemberOf(*spec, "resources");
    if (resources.is_object()) {
      if (resources.contains("requests")) entry["requests"] = resources["requests"];
      if (resources.contains("limits")) entry["limits"] = resources["limits"];
    }
    components[name] = entry;
  }
  Json out = {{"components", components}};
  const std::string version = api::StringMemberOf(api::MemberOf(cluster, "spec"), "clusterVersionRef");
  if (!version.empty()) out["clusterVersionRef"] = version;
  return out;
}

std::string RestartStamp(const Json& ops) {
  const std::string uid = api::StringMemberOf(api::MemberOf(ops, "metadata"), "uid");
  return fmt::format("{}/{}", api::StringMemberOf(api::MemberOf(ops, "status"), "startTimestamp"), uid.substr(0, 8));
}

Json ApplyToCluster(const Json& ops, Json cluster, bool rollback) {
  const std::string type = api::StringMemberOf(api::MemberOf(ops, "spec"), "type");
  const Json& last = api::MemberOf(api::MemberOf(api::MemberOf(ops, "status"), "lastConfiguration"), "components");
  for (const std::string& name : TargetComponents(ops, cluster)) {
    Json* spec = FindComponent(cluster, name);
    if (spec == nullptr) continue;
    const Json& saved = api::MemberOf(last, name.c_str());
    if (rollback) {
      if (type == "VerticalScaling" && saved.is_object()) {
        Json resources = Json::object();
        if (saved.contains("requests")) resources["requests"] = saved["requests"];
        if (saved.contains("limits")) resources["limits"] = saved["limits"];
        (*spec)["resources"] = resources;
      }
      if (type == "HorizontalScaling" && saved.contains("replicas")) (*spec)["replicas"] = saved["replicas"];
      continue;
    }
    if (type == "Stop") (*spec)["stop"] = true;
    if (type == "Start") spec->erase("stop");
    const Json* entry = FindEntry(ops, name);
    if (entry == nullptr) continue;
    if (type == "VerticalScaling") {
      // Keys the operation does not name stay, so a GPU limit is never dropped.
      for (const char* kind : {"requests", "limits"}) {
        const Json& list = api::MemberOf(*entry, kind);
        if (!list.is_object()) continue;
        for (const auto& [key, value] : list.items()) {
          (*spec)["resources"][kind][key] = value.is_string() ? value : Json(value.dump());
        }
      }
    }
    if (type == "HorizontalScaling") {
      const int base = saved.contains("replicas") ? saved["replicas"].get<int>() : Replicas(*spec);
      (*spec)["replicas"] = TargetReplicas(*entry, base);
    }
  }
  return cluster;
}

bool SameQuantity(const std::string& a, const std::string& b) {
  if (a == b) return true;
  auto left = ParseQuantity(a);
  auto right = ParseQuantity(b);
  return left.ok() && right.ok() && left->MilliValue() == right->MilliValue();
}

bool SameResources(const Json& actual, const Json& wanted) {
  auto normalized = [](const Json& resources) {
    std::map<std::string, std::string> out;
    const Json& limits = api::MemberOf(resources, "limits");
    const Json& requests = api::MemberOf(resources, "requests");
    for (const auto* list : {&limits, &requests}) {
      if (!list->is_object()) continue;
      for (const auto& [key, value] : list->items()) {
        if (!value.is_string()) continue;
        out[(list == &limits ? "limits." : "requests.") + key] = value.get<std::string>();
        // A limit without a request is also the request, as the API server defaults it.
        if (list == &limits && !(requests.is_object() && requests.contains(key))) {
          out["requests." + key] = value.get<std::string>();
        }
      }
    }
    return out;
  };
  const auto left = normalized(actual);
  const auto right = normalized(wanted);
  if (left.size() != right.size()) return false;
  for (const auto& [key, value] : left) {
    auto other = right.find(key);
    if (other == right.end() || !SameQuantity(value, other->second)) return false;
  }
  return true;
}

Progress ComputeProgress(const Json& ops, const Json& cluster, const std::vector<Json>& pods) {
  Progress progress;
  progress.settled = true;
  const std::string type = api::StringMemberOf(api::MemberOf(ops, "spec"), "type");
  const std::string stamp = RestartStamp(ops);
  const Json& last = api::MemberOf(api::MemberOf(api::MemberOf(ops, "status"), "lastConfiguration"), "components");
  for (const std::string& name : TargetComponents(ops, cluster)) {
    const Json* spec = FindComponent(cluster, name);
    if (spec == nullptr) continue;
    const int replicas = Replicas(*spec);
    std::map<int, const Json*> by_ordinal;
    for (const Json& pod : pods) {
      const Json& labels = api::MemberOf(api::MemberOf(pod, "metadata"), "labels");
      if (api::StringMemberOf(labels, kb::kComponentNameLabel) == name) {
        by_ordinal[Ordinal(api::StringMemberOf(pod["metadata"], "name"))] = &pod;
      }
    }
    const std::string prefix = fmt::format("{}-{}-", api::StringMemberOf(api::MemberOf(cluster, "metadata"), "name"), name);
    auto record = [&](int ordinal, const std::string& status, const std::string& message) {
      progress.pods.push_back({name, prefix + std::to_string(ordinal), status, message});
      if (status == "Succeed" || status == "Failed") ++progress.completed;
      if (status == "Failed") progress.any_failed = true;
    };
    const std::string phase = ComponentPhase(cluster, name);

    if (type == "Stop") {
      progress.expected += replicas;
      for (int ordinal = 0; ordinal < replicas; ++ordinal) {
        const bool gone = by_ordinal.count(ordinal) == 0;
        record(ordinal, gone ? "Succeed" : "Processing",
               fmt::format("{} delete pod: Pod/{}{} in Component: {}", gone ? "Successfully" : "Start to", prefix,
                           ordinal, name));
      }
      progress.settled = progress.settled && phase == "Stopped";
      continue;
    }
    if (type == "HorizontalScaling") {
      const Json& saved = api::MemberOf(last, name.c_str());
      const int before = saved.contains("replicas") ? saved["replicas"].get<int>() : replicas;
      for (int ordinal = std::min(before, replicas); ordinal < std::max(before, replicas); ++ordinal) {
        ++progress.expected;
        auto found = by_ordinal.find(ordinal);
        if (replicas > before) {
          const bool ready = found != by_ordinal.end() && PodReady(*found->second);
          record(ordinal, ready ? "Succeed" : "Processing",
                 fmt::format("{} create pod: Pod/{}{} in Component: {}", ready ? "Successfully" : "Start to", prefix,
                             ordinal, name));
        } else {
          const bool gone = found == by_ordinal.end();
          record(ordinal, gone ? "Succeed" : "Processing",
                 fmt::format("{} delete pod: Pod/{}{} in Component: {}", gone ? "Successfully" : "Start to", prefix,
                             ordinal, name));
        }
      }
      continue;  // horizontal scaling does not wait for the component phase
    }

    // Start, Restart and VerticalScaling: every replica must be Ready and up to date.
    progress.expected += replicas;
    std::string verb = "vertical scale";
    if (type == "Start") verb = "start";
    if (type == "Restart") verb = "restart";
    for (int ordinal = 0; ordinal < replicas; ++ordinal) {
      auto found = by_ordinal.find(ordinal);
      if (found == by_ordinal.end()) {
        record(ordinal, "Processing", fmt::format("Start to {}: Pod/{}{} in Component: {}", verb, prefix, ordinal, name));
        continue;
      }
      const Json& pod = *found->second;
      bool current = !Deleting(pod);
      if (type == "Restart") {
        current = current && api::StringMemberOf(api::MemberOf(api::MemberOf(pod, "metadata"), "annotations"), kb::kRestartAnnotation) == stamp;
      }
      if (type == "VerticalScaling") {
        const Json& containers = api::MemberOf(api::MemberOf(pod, "spec"), "containers");
        current = current && containers.is_array() && !containers.empty() &&
                  SameResources(api::MemberOf(containers[0], "resources"), api::MemberOf(*spec, "resources"));
      }
      if (current && PodReady(pod)) {
        record(ordinal, "Succeed", fmt::format("Successfully {}: Pod/{}{} in Component: {}", verb, prefix, ordinal, name));
      } else if (current && PodBroken(pod) && phase == "Failed") {
        record(ordinal, "Failed", fmt::format("Failed to {}: Pod/{}{} in Component: {}, message: the pod keeps "
                                              "failing; see kubectl describe pod {}{}",
                                              verb, prefix, ordinal, name, prefix, ordinal));
      } else {
        record(ordinal, current ? "Processing" : "Pending",
               fmt::format("Start to {}: Pod/{}{} in Component: {}", verb, prefix, ordinal, name));
      }
    }
    const bool end_phase = phase == "Running" || phase == "Stopped" || phase == "Failed" || phase == "Abnormal";
    progress.settled = progress.settled && end_phase;
  }
  return progress;
}

}  // namespace xblocks::controllers::ops
