#include "api/list_strategy.h"

#include <array>

namespace xblocks::api {
namespace {

// One list field, named by dotted field names relative to the table's root.
struct ListRuleEntry {
  std::string_view path;
  ListStrategy strategy;
  std::string_view merge_key;
};

constexpr ListStrategy kAtomic = ListStrategy::kAtomic;
constexpr ListStrategy kSet = ListStrategy::kSet;
constexpr ListStrategy kByKey = ListStrategy::kMergeByKey;

// Lists at a fixed path from the object root. The patchStrategy/patchMergeKey tags of
// k8s.io/api v0.33 give the merge keys.
constexpr std::array kRootRules = {
    ListRuleEntry{"spec.ports", kByKey, "port"},             // Service
    ListRuleEntry{"secrets", kByKey, "name"},                // ServiceAccount
    ListRuleEntry{"imagePullSecrets", kByKey, "name"},       // ServiceAccount
    ListRuleEntry{"rules", kAtomic, ""},                     // Role, ClusterRole
    ListRuleEntry{"subjects", kAtomic, ""},                  // RoleBinding, ClusterRoleBinding
    ListRuleEntry{"status.conditions", kByKey, "type"},      // Pod, Node, Deployment, ...
};

// Lists of an ObjectMeta, wherever it sits (the object's own metadata or a pod template's).
constexpr std::array kObjectMetaRules = {
    ListRuleEntry{"finalizers", kSet, ""},
    ListRuleEntry{"ownerReferences", kByKey, "uid"},
};

// Where built-in kinds place a PodSpec.
constexpr std::array<std::string_view, 4> kPodSpecRoots = {
    "spec",                                // Pod
    "template.spec",                       // PodTemplate
    "spec.template.spec",                  // Deployment, ReplicaSet, StatefulSet, DaemonSet, Job
    "spec.jobTemplate.spec.template.spec", // CronJob
};

// Lists of a PodSpec, relative to it.
constexpr std::array kPodSpecRules = {
    ListRuleEntry{"containers", kByKey, "name"},
    ListRuleEntry{"initContainers", kByKey, "name"},
    ListRuleEntry{"ephemeralContainers", kByKey, "name"},
    ListRuleEntry{"volumes", kByKey, "name"},
    ListRuleEntry{"imagePullSecrets", kByKey, "name"},
    ListRuleEntry{"hostAliases", kByKey, "ip"},
    ListRuleEntry{"topologySpreadConstraints", kByKey, "topologyKey"},
    ListRuleEntry{"resourceClaims", kByKey, "name"},
    ListRuleEntry{"tolerations", kAtomic, ""},
    ListRuleEntry{"readinessGates", kAtomic, ""},
};

// The PodSpec lists whose elements are containers.
constexpr std::array<std::string_view, 3> kContainerLists = {"containers", "initContainers",
                                                             "ephemeralContainers"};

// Lists of a container, relative to it.
constexpr std::array kContainerRules = {
    ListRuleEntry{"env", kByKey, "name"},
    ListRuleEntry{"ports", kByKey, "containerPort"},
    ListRuleEntry{"volumeMounts", kByKey, "mountPath"},
    ListRuleEntry{"volumeDevices", kByKey, "devicePath"},
    ListRuleEntry{"resizePolicy", kByKey, "resourceName"},
    ListRuleEntry{"envFrom", kAtomic, ""},
};

// Matches path[begin..] against the dotted names of `pattern`. With `exact`, the path must end
// where the pattern ends; otherwise `*end` receives the index after the matched prefix.
bool MatchSegments(const FieldPath& path, size_t begin, std::string_view pattern, bool exact,
                   size_t* end) {
  size_t index = begin;
  while (!pattern.empty()) {
    size_t dot = pattern.find('.');
    std::string_view segment = pattern.substr(0, dot);
    if (index >= path.size() || path[index] != segment) return false;
    ++index;
    pattern = dot == std::string_view::npos ? std::string_view() : pattern.substr(dot + 1);
  }
  if (end != nullptr) *end = index;
  return !exact || index == path.size();
}

template <size_t N>
const ListRuleEntry* FindIn(const std::array<ListRuleEntry, N>& table, const FieldPath& path,
                            size_t begin) {
  for (const ListRuleEntry& entry : table) {
    if (MatchSegments(path, begin, entry.path, /*exact=*/true, nullptr)) return &entry;
  }
  return nullptr;
}

// Looks for a PodSpec or container list below one of the PodSpec roots.
const ListRuleEntry* FindPodSpecRule(const FieldPath& path) {
  for (std::string_view root : kPodSpecRoots) {
    size_t rest = 0;
    if (!MatchSegments(path, 0, root, /*exact=*/false, &rest)) continue;
    if (const ListRuleEntry* entry = FindIn(kPodSpecRules, path, rest)) return entry;
    if (path.size() != rest + 2) continue;
    for (std::string_view containers : kContainerLists) {
      if (path[rest] == containers) return FindIn(kContainerRules, path, rest + 1);
    }
  }
  return nullptr;
}

}  // namespace

ListRule FindListRule(const FieldPath& path) {
  const ListRuleEntry* entry = FindIn(kRootRules, path, 0);
  if (entry == nullptr && path.size() >= 2 && path[path.size() - 2] == "metadata") {
    entry = FindIn(kObjectMetaRules, path, path.size() - 1);
  }
  if (entry == nullptr) entry = FindPodSpecRule(path);
  if (entry == nullptr) return ListRule{};
  return ListRule{entry->strategy, entry->merge_key};
}

std::string JoinFieldPath(const FieldPath& path) {
  std::string joined;
  for (const std::string& name : path) {
    if (!joined.empty()) joined += '.';
    joined += name;
  }
  return joined;
}

}  // namespace xblocks::api
