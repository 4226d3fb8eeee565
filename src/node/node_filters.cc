// The node-local filters: unschedulable nodes, taints, node selector and affinity, resource fit.
#include <fmt/format.h>

#include "api/json_fields.h"
#include "node/scheduling_framework.h"

namespace xblocks::node::scheduling {
namespace {

bool IsStringEqual(const Json& object, const char* key, const std::string& expected) {
  const auto it = object.find(key);
  const std::string actual = it != object.end() && it->is_string() ? it->get<std::string>() : "";
  return actual == expected;
}

bool TolerationTolerates(const Json& toleration, const Json& taint) {
  if (!toleration.is_object()) return false;
  const std::string effect = api::StringAt(toleration, "effect");
  if (!effect.empty() && effect != api::StringAt(taint, "effect")) return false;
  const std::string key = api::StringAt(toleration, "key");
  if (!key.empty() && key != api::StringAt(taint, "key")) return false;
  const std::string op = api::StringAt(toleration, "operator");
  if (op == "Exists") return true;
  if (op.empty() || op == "Equal") return IsStringEqual(toleration, "value", api::StringAt(taint, "value"));
  return false;
}

std::optional<api::LabelOperator> NodeSelectorOperator(const std::string& op) {
  if (op == "In") return api::LabelOperator::kIn;
  if (op == "NotIn") return api::LabelOperator::kNotIn;
  if (op == "Exists") return api::LabelOperator::kExists;
  if (op == "DoesNotExist") return api::LabelOperator::kDoesNotExist;
  if (op == "Gt") return api::LabelOperator::kGreaterThan;
  if (op == "Lt") return api::LabelOperator::kLessThan;
  return std::nullopt;
}

// Matches a NodeSelectorRequirement against `values`; a malformed requirement matches nothing.
bool MatchesRequirement(const Json& requirement, const Json& values) {
  auto op = NodeSelectorOperator(api::StringAt(requirement, "operator"));
  if (!op) return false;
  std::vector<std::string> operands;
  for (const Json& value : api::ArrayAt(requirement, "values")) {
    if (!value.is_string()) return false;
    operands.push_back(value.get<std::string>());
  }
  auto parsed = api::MakeLabelRequirement(api::StringAt(requirement, "key"), *op, std::move(operands));
  return parsed.ok() && parsed->Matches(values);
}

bool MatchesNodeSelector(const Json& pod, const NodeInfo& node) {
  for (const auto& [key, value] : api::ObjectAt(pod, "spec.nodeSelector").items()) {
    if (!value.is_string() || LabelValue(node.labels, key) != value.get<std::string>()) return false;
  }
  return true;
}

bool MatchesRequiredNodeAffinity(const Json& pod, const NodeInfo& node) {
  const Json* required =
      api::FindPath(pod, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution");
  if (required == nullptr || required->is_null()) return true;
  for (const Json& term : api::ArrayAt(*required, "nodeSelectorTerms")) {
    if (MatchesNodeSelectorTerm(term, node)) return true;
  }
  return false;
}

std::string InsufficientReason(const std::string& resource) { return "Insufficient " + resource; }

bool Exceeds(int64_t request, int64_t allocatable, int64_t requested) {
  return request > 0 && request > allocatable - requested;
}

}  // namespace

std::optional<std::string> LabelValue(const Json& labels, const std::string& key) {
  if (!labels.is_object()) return std::nullopt;
  const auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

bool TolerationsTolerate(const Json& tolerations, const Json& taint) {
  if (!tolerations.is_array()) return false;
  for (const Json& toleration : tolerations) {
    if (TolerationTolerates(toleration, taint)) return true;
  }
  return false;
}

bool MatchesNodeSelectorTerm(const Json& term, const NodeInfo& node) {
  const Json& expressions = api::ArrayAt(term, "matchExpressions");
  const Json& fields = api::ArrayAt(term, "matchFields");
  if (expressions.empty() && fields.empty()) return false;
  for (const Json& requirement : expressions) {
    if (!MatchesRequirement(requirement, node.labels)) return false;
  }
  // matchFields supports metadata.name only, so the node name is the one field to match.
  const Json node_fields = {{"metadata.name", node.name}};
  for (const Json& requirement : fields) {
    if (api::StringAt(requirement, "key") != "metadata.name") return false;
    if (!MatchesRequirement(requirement, node_fields)) return false;
  }
  return true;
}

bool MatchesNodeSelectorAndAffinity(const Json& pod, const NodeInfo& node) {
  return MatchesNodeSelector(pod, node) && MatchesRequiredNodeAffinity(pod, node);
}

std::vector<std::string> FilterUnschedulable(const CycleState& state, const NodeInfo& node) {
  const Json* unschedulable = api::FindPath(*node.node, "spec.unschedulable");
  if (unschedulable == nullptr || !unschedulable->is_boolean() || !unschedulable->get<bool>()) return {};
  const Json taint = {{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}};
  if (TolerationsTolerate(api::ArrayAt(*state.pod, "spec.tolerations"), taint)) return {};
  return {"node(s) were unschedulable"};
}

std::vector<std::string> FilterTaints(const CycleState& state, const NodeInfo& node) {
  const Json& tolerations = api::ArrayAt(*state.pod, "spec.tolerations");
  for (const Json& taint : api::ArrayAt(*node.node, "spec.taints")) {
    const std::string effect = api::StringAt(taint, "effect");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    if (TolerationsTolerate(tolerations, taint)) continue;
    return {fmt::format("node(s) had untolerated taint {{{}: {}}}", api::StringAt(taint, "key"),
                        api::StringAt(taint, "value"))};
  }
  return {};
}

std::vector<std::string> FilterNodeAffinity(const CycleState& state, const NodeInfo& node) {
  if (MatchesNodeSelectorAndAffinity(*state.pod, node)) return {};
  return {"node(s) didn't match Pod's node affinity/selector"};
}

std::vector<std::string> FilterResources(const CycleState& state, const NodeInfo& node) {
  std::vector<std::string> reasons;
  if (static_cast<int64_t>(node.pods.size()) + 1 > node.allocatable.pods) reasons.push_back("Too many pods");
  const ResourceList& request = state.requests;
  const ResourceList& allocatable = node.allocatable;
  const ResourceList& used = node.requested;
  if (Exceeds(request.milli_cpu, allocatable.milli_cpu, used.milli_cpu)) reasons.push_back(InsufficientReason("cpu"));
  if (Exceeds(request.memory, allocatable.memory, used.memory)) reasons.push_back(InsufficientReason("memory"));
  // NOTE: a node that reports no ephemeral-storage is not checked for it; kube-scheduler counts
  // such a node as having none.
  const bool reports_storage = api::FindPath(*node.node, "status.allocatable.ephemeral-storage") != nullptr;
  if (reports_storage && Exceeds(request.ephemeral_storage, allocatable.ephemeral_storage, used.ephemeral_storage)) {
    reasons.push_back(InsufficientReason("ephemeral-storage"));
  }
  for (const auto& [name, amount] : request.scalar) {
    const auto offered = allocatable.scalar.find(name);
    const auto in_use = used.scalar.find(name);
    if (Exceeds(amount, offered == allocatable.scalar.end() ? 0 : offered->second,
                in_use == used.scalar.end() ? 0 : in_use->second)) {
      reasons.push_back(InsufficientReason(name));
    }
  }
  return reasons;
}

}  // namespace xblocks::node::scheduling
