// Pod topology spread constraints: DoNotSchedule ones as a filter on skew, ScheduleAnyway ones
// as a score that prefers domains with fewer matching pods.
#include <algorithm>
#include <cmath>
#include <limits>

#include "api/json_fields.h"
#include "node/scheduling_framework.h"

namespace xblocks::node::scheduling {
namespace {

constexpr char kMissingLabelReason[] = "node(s) didn't match pod topology spread constraints (missing required label)";
constexpr char kSkewReason[] = "node(s) didn't match pod topology spread constraints";
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

api::LabelSelector SelectorOrNothing(const Json* selector) {
  if (selector == nullptr || selector->is_null()) return api::LabelSelector::Nothing();
  auto parsed = api::LabelSelectorFromJson(*selector);
  return parsed.ok() ? std::move(*parsed) : api::LabelSelector::Nothing();
}

// Narrows `selector` to the pod's own values of the constraint's matchLabelKeys.
api::LabelSelector WithMatchLabelKeys(api::LabelSelector selector, const Json& constraint, const Json& pod) {
  const bool matches_nothing = !selector.Empty() && selector.requirements().empty();
  const Json& keys = api::ArrayAt(constraint, "matchLabelKeys");
  if (matches_nothing || keys.empty()) return selector;
  std::vector<api::LabelRequirement> requirements = selector.requirements();
  for (const Json& key : keys) {
    if (!key.is_string()) continue;
    auto value = LabelValue(api::ObjectAt(pod, "metadata.labels"), key.get<std::string>());
    if (!value) continue;
    auto requirement = api::MakeLabelRequirement(key.get<std::string>(), api::LabelOperator::kIn, {*value});
    if (requirement.ok()) requirements.push_back(std::move(*requirement));
  }
  return api::LabelSelector(std::move(requirements));
}

bool HasAllKeys(const NodeInfo& node, const std::vector<SpreadConstraint>& constraints) {
  return std::all_of(constraints.begin(), constraints.end(), [&node](const SpreadConstraint& constraint) {
    return LabelValue(node.labels, constraint.topology_key).has_value();
  });
}

// Reports whether `node` counts toward the constraint's domains under its inclusion policies
// (nodeAffinityPolicy defaults to Honor, nodeTaintsPolicy to Ignore).
bool IncludesNode(const CycleState& state, const SpreadConstraint& constraint, const NodeInfo& node) {
  if (constraint.honor_node_affinity && !MatchesNodeSelectorAndAffinity(*state.pod, node)) return false;
  if (!constraint.honor_node_taints) return true;
  const Json& tolerations = api::ArrayAt(*state.pod, "spec.tolerations");
  for (const Json& taint : api::ArrayAt(*node.node, "spec.taints")) {
    const std::string effect = api::StringAt(taint, "effect");
    if ((effect == "NoSchedule" || effect == "NoExecute") && !TolerationsTolerate(tolerations, taint)) return false;
  }
  return true;
}

int64_t NormalizeSpreadScore(int64_t score, int64_t low, int64_t high) {
  if (high == 0) return kMaxNodeScore;
  return kMaxNodeScore * (high + low - score) / high;
}


// Matching pods per domain of each ScheduleAnyway constraint, over the domains of the candidate
// nodes, and each constraint's weight: the log of its number of domains, as kube-scheduler uses.
struct SoftSpreadCounts {
  std::vector<std::map<std::string, int64_t>> per_domain;
  std::vector<double> weights;
};

SoftSpreadCounts CountSoftDomains(const CycleState& state, const std::vector<const NodeInfo*>& feasible,
                                  const std::vector<NodeInfo>& all_nodes) {
  const auto& constraints = state.soft_spread;
  SoftSpreadCounts counts;
  counts.per_domain.resize(constraints.size());
  size_t scored_nodes = 0;
  for (const NodeInfo* node : feasible) {
    if (!HasAllKeys(*node, constraints)) continue;
    ++scored_nodes;
    for (size_t i = 0; i < constraints.size(); ++i) {
      counts.per_domain[i][*LabelValue(node->labels, constraints[i].topology_key)];
    }
  }
  for (const NodeInfo& node : all_nodes) {
    if (!HasAllKeys(node, constraints)) continue;
    for (size_t i = 0; i < constraints.size(); ++i) {
      // Per-node domains are counted directly from the scored node.
      if (constraints[i].topology_key == kHostnameLabel || !IncludesNode(state, constraints[i], node)) continue;
      auto domain = counts.per_domain[i].find(*LabelValue(node.labels, constraints[i].topology_key));
      if (domain == counts.per_domain[i].end()) continue;
      domain->second += CountMatchingPods(node, constraints[i].selector, state.ns);
    }
  }
  for (size_t i = 0; i < constraints.size(); ++i) {
    const bool per_node = constraints[i].topology_key == kHostnameLabel;
    const size_t domains = per_node ? scored_nodes : counts.per_domain[i].size();
    counts.weights.push_back(std::log(static_cast<double>(domains + 2)));
  }
  return counts;
}

// The score before normalization; lower means fewer matching pods in the node's domains.
int64_t RawSpreadScore(const CycleState& state, const SoftSpreadCounts& counts, const NodeInfo& node) {
  double raw = 0;
  for (size_t i = 0; i < state.soft_spread.size(); ++i) {
    const SpreadConstraint& constraint = state.soft_spread[i];
    int64_t matching = 0;
    if (constraint.topology_key == kHostnameLabel) {
      matching = CountMatchingPods(node, constraint.selector, state.ns);
    } else {
      matching = counts.per_domain[i].at(*LabelValue(node.labels, constraint.topology_key));
    }
    raw += static_cast<double>(matching) * counts.weights[i] + static_cast<double>(constraint.max_skew - 1);
  }
  return std::llround(raw);
}

}  // namespace

std::vector<SpreadConstraint> ParseSpreadConstraints(const Json& pod, const std::string& when_unsatisfiable) {
  std::vector<SpreadConstraint> constraints;
  for (const Json& item : api::ArrayAt(pod, "spec.topologySpreadConstraints")) {
    if (api::StringAt(item, "whenUnsatisfiable") != when_unsatisfiable) continue;
    SpreadConstraint constraint;
    constraint.topology_key = api::StringAt(item, "topologyKey");
    if (constraint.topology_key.empty()) continue;
    // Both fields are int32 in the Kubernetes API.
    constraint.max_skew = std::clamp<int64_t>(api::IntAt(item, "maxSkew", 1), 1, kMaxInt32);
    constraint.min_domains = std::clamp<int64_t>(api::IntAt(item, "minDomains", 1), 1, kMaxInt32);
    constraint.selector = WithMatchLabelKeys(SelectorOrNothing(api::FindPath(item, "labelSelector")), item, pod);
    constraint.honor_node_affinity = api::StringAt(item, "nodeAffinityPolicy") != "Ignore";
    constraint.honor_node_taints = api::StringAt(item, "nodeTaintsPolicy") == "Honor";
    constraints.push_back(std::move(constraint));
  }
  return constraints;
}

int64_t CountMatchingPods(const NodeInfo& node, const api::LabelSelector& selector, const std::string& ns) {
  int64_t count = 0;
  for (const Json* pod : node.pods) {
    // Pods being deleted do not count toward spreading, as in kube-scheduler.
    if (api::FindPath(*pod, "metadata.deletionTimestamp") != nullptr) continue;
    if (api::StringAt(*pod, "metadata.namespace") != ns) continue;
    if (selector.Matches(api::ObjectAt(*pod, "metadata.labels"))) ++count;
  }
  return count;
}

void PrepareTopologySpread(CycleState& state, const std::vector<NodeInfo>& nodes) {
  state.spread_counts.assign(state.hard_spread.size(), {});
  state.spread_min.assign(state.hard_spread.size(), 0);
  for (const NodeInfo& node : nodes) {
    if (!HasAllKeys(node, state.hard_spread)) continue;
    for (size_t i = 0; i < state.hard_spread.size(); ++i) {
      const SpreadConstraint& constraint = state.hard_spread[i];
      if (!IncludesNode(state, constraint, node)) continue;
      const std::string domain = *LabelValue(node.labels, constraint.topology_key);
      state.spread_counts[i][domain] += CountMatchingPods(node, constraint.selector, state.ns);
    }
  }
  for (size_t i = 0; i < state.hard_spread.size(); ++i) {
    const auto& counts = state.spread_counts[i];
    // With fewer domains than minDomains, the global minimum is taken as zero.
    if (counts.empty() || static_cast<int64_t>(counts.size()) < state.hard_spread[i].min_domains) continue;
    int64_t low = std::numeric_limits<int64_t>::max();
    for (const auto& [domain, count] : counts) low = std::min(low, count);
    state.spread_min[i] = low;
  }
}

std::vector<std::string> FilterTopologySpread(const CycleState& state, const NodeInfo& node) {
  for (size_t i = 0; i < state.hard_spread.size(); ++i) {
    const SpreadConstraint& constraint = state.hard_spread[i];
    auto domain = LabelValue(node.labels, constraint.topology_key);
    if (!domain) return {kMissingLabelReason};
    const int64_t self = constraint.selector.Matches(state.labels) ? 1 : 0;
    const auto found = state.spread_counts[i].find(*domain);
    const int64_t matching = found == state.spread_counts[i].end() ? 0 : found->second;
    if (matching + self - state.spread_min[i] > constraint.max_skew) return {kSkewReason};
  }
  return {};
}

std::vector<int64_t> ScoreTopologySpread(const CycleState& state, const std::vector<const NodeInfo*>& feasible,
                                         const std::vector<NodeInfo>& all_nodes) {
  const auto& constraints = state.soft_spread;
  std::vector<int64_t> scores(feasible.size(), 0);
  if (constraints.empty()) return scores;
  const SoftSpreadCounts counts = CountSoftDomains(state, feasible, all_nodes);

  int64_t low = std::numeric_limits<int64_t>::max();
  int64_t high = 0;
  for (size_t n = 0; n < feasible.size(); ++n) {
    // A node without every topology key gets the lowest score.
    if (!HasAllKeys(*feasible[n], constraints)) {
      scores[n] = -1;
      continue;
    }
    scores[n] = RawSpreadScore(state, counts, *feasible[n]);
    low = std::min(low, scores[n]);
    high = std::max(high, scores[n]);
  }
  for (int64_t& score : scores) score = score < 0 ? 0 : NormalizeSpreadScore(score, low, high);
  return scores;
}

}  // namespace xblocks::node::scheduling
