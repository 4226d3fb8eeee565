// Pod anti-affinity (required, in both directions) as a filter, and preferred pod affinity and
// anti-affinity as a score, counted per topology domain.
#include <algorithm>
#include <limits>
#include <map>

#include "api/json_fields.h"
#include "node/scheduling_framework.h"

namespace xblocks::node::scheduling {
namespace {

// A selector from JSON; a null, absent or malformed one selects nothing.
api::LabelSelector SelectorOrNothing(const Json* selector) {
  if (selector == nullptr || selector->is_null()) return api::LabelSelector::Nothing();
  auto parsed = api::LabelSelectorFromJson(*selector);
  return parsed.ok() ? std::move(*parsed) : api::LabelSelector::Nothing();
}

std::optional<AffinityTerm> ParseTerm(const Json& term, const std::string& ns, int64_t weight) {
  AffinityTerm parsed;
  parsed.topology_key = api::StringAt(term, "topologyKey");
  if (parsed.topology_key.empty()) return std::nullopt;
  parsed.weight = weight;
  parsed.selector = SelectorOrNothing(api::FindPath(term, "labelSelector"));
  for (const Json& name : api::ArrayAt(term, "namespaces")) {
    if (name.is_string()) parsed.namespaces.insert(name.get<std::string>());
  }
  const Json* ns_selector = api::FindPath(term, "namespaceSelector");
  if (ns_selector != nullptr && !ns_selector->is_null()) parsed.namespace_selector = SelectorOrNothing(ns_selector);
  // With neither namespaces nor a namespace selector, a term covers its own pod's namespace.
  if (parsed.namespaces.empty() && !parsed.namespace_selector) parsed.namespaces.insert(ns);
  return parsed;
}

std::vector<AffinityTerm> RequiredTerms(const Json& pod, const char* path, const std::string& ns) {
  std::vector<AffinityTerm> terms;
  for (const Json& term : api::ArrayAt(pod, path)) {
    if (auto parsed = ParseTerm(term, ns, 0)) terms.push_back(std::move(*parsed));
  }
  return terms;
}

std::vector<AffinityTerm> PreferredTerms(const Json& pod, const char* path, const std::string& ns) {
  std::vector<AffinityTerm> terms;
  for (const Json& weighted : api::ArrayAt(pod, path)) {
    // Kubernetes accepts weights 1..100 only; anything else would have been rejected.
    const int64_t weight = api::IntAt(weighted, "weight", 0);
    if (weight < 1 || weight > 100) continue;
    if (auto parsed = ParseTerm(api::ObjectAt(weighted, "podAffinityTerm"), ns, weight)) {
      terms.push_back(std::move(*parsed));
    }
  }
  return terms;
}

bool HasPodAffinity(const Json& pod) {
  return api::FindPath(pod, "spec.affinity.podAntiAffinity") != nullptr ||
         api::FindPath(pod, "spec.affinity.podAffinity") != nullptr;
}

// Calls `visit(node, pod)` for every bound pod.
template <typename Visit>
void ForEachBoundPod(const std::vector<NodeInfo>& nodes, Visit visit) {
  for (const NodeInfo& node : nodes) {
    for (const Json* pod : node.pods) visit(node, *pod);
  }
}

void AddDomainScore(std::map<TopologyPair, int64_t>& scores, const AffinityTerm& term, const NodeInfo& node,
                    int64_t delta) {
  auto value = LabelValue(node.labels, term.topology_key);
  if (value) scores[{term.topology_key, *value}] += delta;
}

// Adds the preferred terms of the incoming pod and of `existing` that relate the two pods.
void ScoreExistingPod(const CycleState& state, const NodeInfo& node, const Json& existing,
                      std::map<TopologyPair, int64_t>& scores) {
  for (const AffinityTerm& term : state.affinity.preferred_affinity) {
    if (term.Matches(existing)) AddDomainScore(scores, term, node, term.weight);
  }
  for (const AffinityTerm& term : state.affinity.preferred_anti_affinity) {
    if (term.Matches(existing)) AddDomainScore(scores, term, node, -term.weight);
  }
  if (!HasPodAffinity(existing)) return;
  const PodAffinity theirs = ParsePodAffinity(existing);
  for (const AffinityTerm& term : theirs.preferred_affinity) {
    if (term.Matches(*state.pod)) AddDomainScore(scores, term, node, term.weight);
  }
  for (const AffinityTerm& term : theirs.preferred_anti_affinity) {
    if (term.Matches(*state.pod)) AddDomainScore(scores, term, node, -term.weight);
  }
}

int64_t NodeDomainScore(const std::map<TopologyPair, int64_t>& scores, const NodeInfo& node) {
  int64_t total = 0;
  for (const auto& [pair, score] : scores) {
    if (LabelValue(node.labels, pair.first) == pair.second) total += score;
  }
  return total;
}

}  // namespace

bool AffinityTerm::Matches(const Json& pod) const {
  const std::string ns = api::StringAt(pod, "metadata.namespace");
  // NOTE: a namespace selector is matched against the kubernetes.io/metadata.name label only.
  const Json ns_labels = {{"kubernetes.io/metadata.name", ns}};
  const bool in_namespace =
      namespaces.count(ns) > 0 || (namespace_selector && namespace_selector->Matches(ns_labels));
  return in_namespace && selector.Matches(api::ObjectAt(pod, "metadata.labels"));
}

PodAffinity ParsePodAffinity(const Json& pod) {
  const std::string ns = api::StringAt(pod, "metadata.namespace");
  PodAffinity affinity;
  affinity.required_anti_affinity =
      RequiredTerms(pod, "spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution", ns);
  affinity.preferred_anti_affinity =
      PreferredTerms(pod, "spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution", ns);
  affinity.preferred_affinity =
      PreferredTerms(pod, "spec.affinity.podAffinity.preferredDuringSchedulingIgnoredDuringExecution", ns);
  return affinity;
}

std::set<TopologyPair> BlockedByAntiAffinity(const CycleState& state, const std::vector<NodeInfo>& nodes) {
  std::set<TopologyPair> blocked;
  if (state.affinity.required_anti_affinity.empty()) return blocked;
  ForEachBoundPod(nodes, [&](const NodeInfo& node, const Json& existing) {
    for (const AffinityTerm& term : state.affinity.required_anti_affinity) {
      auto value = LabelValue(node.labels, term.topology_key);
      if (value && term.Matches(existing)) blocked.insert({term.topology_key, *value});
    }
  });
  return blocked;
}

std::set<TopologyPair> BlockedByExistingAntiAffinity(const CycleState& state, const std::vector<NodeInfo>& nodes) {
  std::set<TopologyPair> blocked;
  ForEachBoundPod(nodes, [&](const NodeInfo& node, const Json& existing) {
    if (!HasPodAffinity(existing)) return;
    for (const AffinityTerm& term : ParsePodAffinity(existing).required_anti_affinity) {
      auto value = LabelValue(node.labels, term.topology_key);
      if (value && term.Matches(*state.pod)) blocked.insert({term.topology_key, *value});
    }
  });
  return blocked;
}

std::vector<std::string> FilterInterPodAffinity(const CycleState& state, const NodeInfo& node) {
  auto in_blocked_domain = [&node](const std::set<TopologyPair>& blocked) {
    return std::any_of(blocked.begin(), blocked.end(), [&node](const TopologyPair& pair) {
      return LabelValue(node.labels, pair.first) == pair.second;
    });
  };
  if (in_blocked_domain(state.anti_affinity_blocked)) return {"node(s) didn't match pod anti-affinity rules"};
  if (in_blocked_domain(state.existing_anti_affinity_blocked)) {
    return {"node(s) didn't satisfy existing pods anti-affinity rules"};
  }
  return {};
}

std::vector<int64_t> ScoreInterPodAffinity(const CycleState& state, const std::vector<const NodeInfo*>& feasible,
                                           const std::vector<NodeInfo>& all_nodes) {
  std::map<TopologyPair, int64_t> domain_scores;
  ForEachBoundPod(all_nodes, [&](const NodeInfo& node, const Json& existing) {
    ScoreExistingPod(state, node, existing, domain_scores);
  });

  std::vector<int64_t> scores;
  for (const NodeInfo* node : feasible) scores.push_back(NodeDomainScore(domain_scores, *node));
  if (scores.empty()) return scores;

  // Scale to 0..100 between the lowest and the highest raw score, as kube-scheduler does.
  const auto [min_it, max_it] = std::minmax_element(scores.begin(), scores.end());
  const int64_t low = *min_it;
  const int64_t range = *max_it - low;
  for (int64_t& score : scores) {
    score = range > 0 ? static_cast<int64_t>(static_cast<double>(kMaxNodeScore) *
                                             (static_cast<double>(score - low) / static_cast<double>(range)))
                      : 0;
  }
  return scores;
}

}  // namespace xblocks::node::scheduling
