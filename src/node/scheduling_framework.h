// The internals of Schedule(): the per-pod state computed once per scheduling attempt, and the
// filter and score steps that read it. The steps follow kube-scheduler 1.33's default plugins
// (NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit, PodTopologySpread,
// InterPodAffinity, NodeResourcesBalancedAllocation) and keep their failure reasons word for
// word, because users compare them with what Kubernetes prints.
//
// Every read of a pod or node tolerates any JSON shape: a malformed field counts as absent.
// Thread-safety: the functions are pure; the structs are plain values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/selector.h"
#include "common/json.h"

namespace xblocks::node::scheduling {

inline constexpr int64_t kMaxNodeScore = 100;
// kube-scheduler's assumed requests for a container that sets none, used only for scoring.
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200LL * 1024 * 1024;
// The node label that spreading and anti-affinity count per node instead of per domain.
inline constexpr char kHostnameLabel[] = "kubernetes.io/hostname";

// Amounts of the resources the scheduler accounts for.
struct ResourceList {
  int64_t milli_cpu = 0;
  int64_t memory = 0;             // bytes
  int64_t ephemeral_storage = 0;  // bytes
  int64_t pods = 0;
  std::map<std::string, int64_t> scalar;  // extended resources and hugepages, in whole units

  void Add(const ResourceList& other);
};

// The effective requests of a pod as kube-scheduler computes them: the sum over containers,
// raised to the largest init container, plus spec.overhead. A container with a limit but no
// request counts the limit, as API defaulting would have copied it.
ResourceList PodRequests(const Json& pod);
// CPU and memory requests with kDefaultMilliCpuRequest and kDefaultMemoryRequest standing in
// for a container's missing ones.
ResourceList NonZeroPodRequests(const Json& pod);
// status.allocatable of a node, with pods defaulting to 0 when absent.
ResourceList NodeAllocatable(const Json& node);
// Reports whether a bound `pod` still uses its node's resources. Every phase but Succeeded and
// Failed does, including pods being deleted.
bool HoldsResources(const Json& pod);

// A node with the pods bound to it.
struct NodeInfo {
  const Json* node = nullptr;
  std::string name;
  Json labels = Json::object();
  std::vector<const Json*> pods;
  ResourceList allocatable;
  ResourceList requested;
  ResourceList non_zero_requested;
};

// One PodAffinityTerm or WeightedPodAffinityTerm, resolved against its pod's namespace.
struct AffinityTerm {
  api::LabelSelector selector = api::LabelSelector::Nothing();
  std::set<std::string> namespaces;
  std::optional<api::LabelSelector> namespace_selector;
  std::string topology_key;
  int64_t weight = 0;  // preferred terms only

  // Reports whether `pod` is in one of the term's namespaces and carries matching labels.
  bool Matches(const Json& pod) const;
};

struct PodAffinity {
  std::vector<AffinityTerm> required_anti_affinity;
  std::vector<AffinityTerm> preferred_anti_affinity;
  std::vector<AffinityTerm> preferred_affinity;

  bool Empty() const {
    return required_anti_affinity.empty() && preferred_anti_affinity.empty() && preferred_affinity.empty();
  }
};

// Parses spec.affinity.podAffinity and podAntiAffinity. A term whose selector does not parse
// matches no pod. NOTE: required pod affinity is not parsed, so it is not enforced.
PodAffinity ParsePodAffinity(const Json& pod);

// One TopologySpreadConstraint.
struct SpreadConstraint {
  int64_t max_skew = 1;
  std::string topology_key;
  api::LabelSelector selector = api::LabelSelector::Nothing();
  int64_t min_domains = 1;
  bool honor_node_affinity = true;  // nodeAffinityPolicy
  bool honor_node_taints = false;   // nodeTaintsPolicy
};

using TopologyPair = std::pair<std::string, std::string>;

// Everything about the pod being scheduled that the steps read more than once.
struct CycleState {
  const Json* pod = nullptr;
  std::string ns;
  Json labels = Json::object();
  ResourceList requests;
  ResourceList non_zero_requests;
  PodAffinity affinity;
  std::vector<SpreadConstraint> hard_spread;  // whenUnsatisfiable DoNotSchedule
  std::vector<SpreadConstraint> soft_spread;  // whenUnsatisfiable ScheduleAnyway

  // Topology pairs that required anti-affinity rules close to the pod, in either direction.
  std::set<TopologyPair> anti_affinity_blocked;
  std::set<TopologyPair> existing_anti_affinity_blocked;
  // Per hard_spread[i]: matching pods per domain, and the domain minimum.
  std::vector<std::map<std::string, int64_t>> spread_counts;
  std::vector<int64_t> spread_min;
};

// Groups bound pods by node; `pod` itself is left out if it appears among them.
std::vector<NodeInfo> BuildNodeInfos(const std::vector<Json>& nodes, const std::vector<Json>& bound_pods,
                                     const Json& pod);
// Parses the pod and precomputes the anti-affinity and spreading state over `nodes`.
CycleState PrepareCycle(const Json& pod, const std::vector<NodeInfo>& nodes);

// Filters. Each returns the reasons `node` cannot take the pod, empty when it can.
std::vector<std::string> FilterUnschedulable(const CycleState& state, const NodeInfo& node);
std::vector<std::string> FilterTaints(const CycleState& state, const NodeInfo& node);
std::vector<std::string> FilterNodeAffinity(const CycleState& state, const NodeInfo& node);
std::vector<std::string> FilterResources(const CycleState& state, const NodeInfo& node);
std::vector<std::string> FilterTopologySpread(const CycleState& state, const NodeInfo& node);
std::vector<std::string> FilterInterPodAffinity(const CycleState& state, const NodeInfo& node);

// Shared by filters and the spreading state.
bool TolerationsTolerate(const Json& tolerations, const Json& taint);
bool MatchesNodeSelectorAndAffinity(const Json& pod, const NodeInfo& node);
// Matches one NodeSelectorTerm ({matchExpressions, matchFields}); an empty term matches nothing.
bool MatchesNodeSelectorTerm(const Json& term, const NodeInfo& node);
std::optional<std::string> LabelValue(const Json& labels, const std::string& key);
std::set<TopologyPair> BlockedByAntiAffinity(const CycleState& state, const std::vector<NodeInfo>& nodes);
std::set<TopologyPair> BlockedByExistingAntiAffinity(const CycleState& state, const std::vector<NodeInfo>& nodes);
void PrepareTopologySpread(CycleState& state, const std::vector<NodeInfo>& nodes);
std::vector<SpreadConstraint> ParseSpreadConstraints(const Json& pod, const std::string& when_unsatisfiable);
int64_t CountMatchingPods(const NodeInfo& node, const api::LabelSelector& selector, const std::string& ns);

// Scores of `feasible` nodes, each already normalized to 0..kMaxNodeScore, in the same order.
std::vector<int64_t> ScoreTaintToleration(const CycleState& state, const std::vector<const NodeInfo*>& feasible);
std::vector<int64_t> ScoreNodeAffinity(const CycleState& state, const std::vector<const NodeInfo*>& feasible);
std::vector<int64_t> ScoreLeastAllocated(const CycleState& state, const std::vector<const NodeInfo*>& feasible);
std::vector<int64_t> ScoreBalancedAllocation(const CycleState& state,
                                             const std::vector<const NodeInfo*>& feasible);
std::vector<int64_t> ScoreTopologySpread(const CycleState& state, const std::vector<const NodeInfo*>& feasible,
                                         const std::vector<NodeInfo>& all_nodes);
std::vector<int64_t> ScoreInterPodAffinity(const CycleState& state, const std::vector<const NodeInfo*>& feasible,
                                           const std::vector<NodeInfo>& all_nodes);

}  // namespace xblocks::node::scheduling
