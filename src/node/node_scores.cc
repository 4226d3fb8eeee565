// Node-local scores: PreferNoSchedule taints, preferred node affinity, and resource use.
#include <algorithm>
#include <cmath>

#include "api/json_fields.h"
#include "node/scheduling_framework.h"

namespace xblocks::node::scheduling {
namespace {

// Scales scores to 0..kMaxNodeScore by the highest one; `reverse` makes lower raw scores better.
void NormalizeByMax(std::vector<int64_t>& scores, bool reverse) {
  int64_t high = 0;
  for (int64_t score : scores) high = std::max(high, score);
  for (int64_t& score : scores) {
    const int64_t scaled = high == 0 ? 0 : kMaxNodeScore * score / high;
    score = reverse ? kMaxNodeScore - scaled : scaled;
  }
}

int64_t LeastRequested(int64_t requested, int64_t capacity) {
  if (capacity <= 0 || requested > capacity) return 0;
  const __int128 free = static_cast<__int128>(capacity) - requested;
  return static_cast<int64_t>(free * kMaxNodeScore / capacity);
}

// The untolerated PreferNoSchedule taints of a node.
int64_t CountPreferNoScheduleTaints(const Json& tolerations, const NodeInfo& node) {
  Json relevant = Json::array();
  for (const Json& toleration : tolerations) {
    const std::string effect = api::StringAt(toleration, "effect");
    if (effect.empty() || effect == "PreferNoSchedule") relevant.push_back(toleration);
  }
  int64_t count = 0;
  for (const Json& taint : api::ArrayAt(*node.node, "spec.taints")) {
    if (api::StringAt(taint, "effect") == "PreferNoSchedule" && !TolerationsTolerate(relevant, taint)) ++count;
  }
  return count;
}

int64_t PreferredNodeAffinityWeight(const Json& pod, const NodeInfo& node) {
  int64_t total = 0;
  const char* path = "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution";
  for (const Json& preference : api::ArrayAt(pod, path)) {
    const int64_t weight = api::IntAt(preference, "weight", 0);
    // Kubernetes accepts weights 1..100 only.
    if (weight < 1 || weight > 100) continue;
    if (MatchesNodeSelectorTerm(api::ObjectAt(preference, "preference"), node)) total += weight;
  }
  return total;
}

}  // namespace

std::vector<int64_t> ScoreTaintToleration(const CycleState& state, const std::vector<const NodeInfo*>& feasible) {
  std::vector<int64_t> scores;
  const Json& tolerations = api::ArrayAt(*state.pod, "spec.tolerations");
  for (const NodeInfo* node : feasible) scores.push_back(CountPreferNoScheduleTaints(tolerations, *node));
  NormalizeByMax(scores, /*reverse=*/true);
  return scores;
}

std::vector<int64_t> ScoreNodeAffinity(const CycleState& state, const std::vector<const NodeInfo*>& feasible) {
  std::vector<int64_t> scores;
  for (const NodeInfo* node : feasible) scores.push_back(PreferredNodeAffinityWeight(*state.pod, *node));
  NormalizeByMax(scores, /*reverse=*/false);
  return scores;
}

std::vector<int64_t> ScoreLeastAllocated(const CycleState& state, const std::vector<const NodeInfo*>& feasible) {
  std::vector<int64_t> scores;
  for (const NodeInfo* node : feasible) {
    ResourceList requested = node->non_zero_requested;
    requested.Add(state.non_zero_requests);
    const int64_t cpu = LeastRequested(requested.milli_cpu, node->allocatable.milli_cpu);
    const int64_t memory = LeastRequested(requested.memory, node->allocatable.memory);
    scores.push_back((cpu + memory) / 2);
  }
  return scores;
}

std::vector<int64_t> ScoreBalancedAllocation(const CycleState& state,
                                             const std::vector<const NodeInfo*>& feasible) {
  std::vector<int64_t> scores;
  for (const NodeInfo* node : feasible) {
    ResourceList requested = node->requested;
    requested.Add(state.requests);
    std::vector<double> fractions;
    for (auto [used, capacity] : {std::pair{requested.milli_cpu, node->allocatable.milli_cpu},
                                  std::pair{requested.memory, node->allocatable.memory}}) {
      if (capacity <= 0) continue;
      fractions.push_back(std::min(1.0, static_cast<double>(used) / static_cast<double>(capacity)));
    }
    // With two resources the standard deviation is half their difference.
    const double deviation = fractions.size() == 2 ? std::abs(fractions[0] - fractions[1]) / 2 : 0.0;
    scores.push_back(static_cast<int64_t>((1 - deviation) * static_cast<double>(kMaxNodeScore)));
  }
  return scores;
}

}  // namespace xblocks::node::scheduling
