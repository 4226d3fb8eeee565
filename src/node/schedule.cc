// Schedule(): filters every node, explains a failure the way kube-scheduler words it, and
// picks the best-scoring feasible node.
#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/json_fields.h"
#include "node/scheduler.h"
#include "node/scheduling_framework.h"

namespace xblocks::node {
namespace {

using scheduling::CycleState;
using scheduling::NodeInfo;

using FilterFunction = std::vector<std::string> (*)(const CycleState&, const NodeInfo&);

// kube-scheduler 1.33's filter order. A node reports the reasons of the first filter it fails.
constexpr FilterFunction kFilters[] = {
    scheduling::FilterUnschedulable, scheduling::FilterTaints,         scheduling::FilterNodeAffinity,
    scheduling::FilterResources,     scheduling::FilterTopologySpread, scheduling::FilterInterPodAffinity,
};

std::vector<std::string> RunFilters(const CycleState& state, const NodeInfo& node) {
  for (FilterFunction filter : kFilters) {
    std::vector<std::string> reasons = filter(state, node);
    if (!reasons.empty()) return reasons;
  }
  return {};
}

// "0/3 nodes are available: 1 Insufficient memory, 2 node(s) didn't match pod anti-affinity
// rules." The "<count> <reason>" entries are sorted as strings, as kube-scheduler sorts them.
std::string FitErrorMessage(size_t node_count, const std::map<std::string, int>& reasons) {
  std::vector<std::string> entries;
  for (const auto& [reason, count] : reasons) entries.push_back(fmt::format("{} {}", count, reason));
  std::sort(entries.begin(), entries.end());
  std::string message = fmt::format("0/{} nodes are available:", node_count);
  if (!entries.empty()) message += fmt::format(" {}.", fmt::join(entries, ", "));
  return message;
}

// The weighted sum of the default score plugins, in kube-scheduler 1.33's default weights.
std::vector<int64_t> TotalScores(const CycleState& state, const std::vector<const NodeInfo*>& feasible,
                                 const std::vector<NodeInfo>& all_nodes) {
  const std::pair<int64_t, std::vector<int64_t>> weighted[] = {
      {3, scheduling::ScoreTaintToleration(state, feasible)},
      {2, scheduling::ScoreNodeAffinity(state, feasible)},
      {1, scheduling::ScoreLeastAllocated(state, feasible)},
      {2, scheduling::ScoreTopologySpread(state, feasible, all_nodes)},
      {2, scheduling::ScoreInterPodAffinity(state, feasible, all_nodes)},
      {1, scheduling::ScoreBalancedAllocation(state, feasible)},
  };
  std::vector<int64_t> totals(feasible.size(), 0);
  for (const auto& [weight, scores] : weighted) {
    for (size_t i = 0; i < totals.size(); ++i) totals[i] += weight * scores[i];
  }
  return totals;
}

// The highest-scoring node; among equal scores the first name in order, so runs repeat.
const NodeInfo* PickBest(const std::vector<const NodeInfo*>& feasible, const std::vector<int64_t>& scores) {
  size_t best = 0;
  for (size_t i = 1; i < feasible.size(); ++i) {
    if (scores[i] > scores[best] || (scores[i] == scores[best] && feasible[i]->name < feasible[best]->name)) {
      best = i;
    }
  }
  return feasible[best];
}

}  // namespace

namespace scheduling {

CycleState PrepareCycle(const Json& pod, const std::vector<NodeInfo>& nodes) {
  CycleState state;
  state.pod = &pod;
  state.ns = api::StringAt(pod, "metadata.namespace");
  state.labels = api::ObjectAt(pod, "metadata.labels");
  state.requests = PodRequests(pod);
  state.non_zero_requests = NonZeroPodRequests(pod);
  state.affinity = ParsePodAffinity(pod);
  state.hard_spread = ParseSpreadConstraints(pod, "DoNotSchedule");
  state.soft_spread = ParseSpreadConstraints(pod, "ScheduleAnyway");
  state.anti_affinity_blocked = BlockedByAntiAffinity(state, nodes);
  state.existing_anti_affinity_blocked = BlockedByExistingAntiAffinity(state, nodes);
  PrepareTopologySpread(state, nodes);
  return state;
}

}  // namespace scheduling

ScheduleDecision Schedule(const Json& pod, const std::vector<Json>& nodes, const std::vector<Json>& bound_pods) {
  const std::vector<NodeInfo> infos = scheduling::BuildNodeInfos(nodes, bound_pods, pod);
  if (infos.empty()) return {"", "no nodes available to schedule pods"};
  const CycleState state = scheduling::PrepareCycle(pod, infos);

  std::vector<const NodeInfo*> feasible;
  std::map<std::string, int> reasons;
  for (const NodeInfo& info : infos) {
    std::vector<std::string> failed = RunFilters(state, info);
    if (failed.empty()) feasible.push_back(&info);
    for (const std::string& reason : failed) ++reasons[reason];
  }
  if (feasible.empty()) return {"", FitErrorMessage(infos.size(), reasons)};

  const std::vector<int64_t> scores = TotalScores(state, feasible, infos);
  return {PickBest(feasible, scores)->name, ""};
}

}  // namespace xblocks::node
