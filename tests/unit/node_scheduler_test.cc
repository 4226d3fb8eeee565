#include <gtest/gtest.h>

#include <vector>

#include "node/scheduler.h"
#include "node_test_support.h"

namespace xblocks::node {
namespace {

using testing::BoundTo;
using testing::TestNode;
using testing::TestPod;
using testing::WithComponentAntiAffinity;
using testing::WithKbDataToleration;

std::vector<Json> ThreeNodes() { return {TestNode("node-a"), TestNode("node-b"), TestNode("node-c")}; }

// Schedules pods <prefix>-0 .. <prefix>-(count-1) in turn, binding each where it lands, and
// returns the nodes ("" for unschedulable).
std::vector<std::string> ScheduleReplicas(int count, bool required, const std::vector<Json>& nodes,
                                          std::vector<Json>& bound) {
  std::vector<std::string> placed;
  for (int i = 0; i < count; ++i) {
    Json pod = WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-" + std::to_string(i)), required);
    const ScheduleDecision decision = Schedule(pod, nodes, bound);
    placed.push_back(decision.node);
    if (!decision.node.empty()) bound.push_back(BoundTo(pod, decision.node));
  }
  return placed;
}

Json Taint(const std::string& key, const std::string& value, const std::string& effect) {
  return {{"key", key}, {"value", value}, {"effect", effect}};
}

TEST(Schedule, RequiredAntiAffinityPlacesOnePerNode) {
  std::vector<Json> bound;
  const auto placed = ScheduleReplicas(3, true, ThreeNodes(), bound);
  EXPECT_EQ(placed, (std::vector<std::string>{"node-a", "node-b", "node-c"}));

  const ScheduleDecision fourth =
      Schedule(WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-3"), true), ThreeNodes(), bound);
  EXPECT_EQ(fourth.node, "");
  EXPECT_EQ(fourth.message, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
}

TEST(Schedule, RequiredAntiAffinityIgnoresOtherClusters) {
  std::vector<Json> bound = {BoundTo(TestPod("other-0", "1", "1Gi", "other-cluster"), "node-a")};
  const ScheduleDecision decision =
      Schedule(WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-0"), true), {TestNode("node-a")}, bound);
  EXPECT_EQ(decision.node, "node-a");
}

TEST(Schedule, AntiAffinityIgnoresOtherNamespaces) {
  Json elsewhere = TestPod("xinference-cluster-xinference-0");
  elsewhere["metadata"]["namespace"] = "other";
  std::vector<Json> bound = {BoundTo(elsewhere, "node-a")};
  const ScheduleDecision decision =
      Schedule(WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-1"), true), {TestNode("node-a")}, bound);
  EXPECT_EQ(decision.node, "node-a");
}

TEST(Schedule, PreferredAntiAffinitySpreadsWhenItCan) {
  std::vector<Json> bound;
  const auto placed = ScheduleReplicas(3, false, ThreeNodes(), bound);
  EXPECT_EQ(placed, (std::vector<std::string>{"node-a", "node-b", "node-c"}));
}

TEST(Schedule, PreferredAntiAffinityStacksWhenItCannot) {
  std::vector<Json> bound;
  const auto placed = ScheduleReplicas(3, false, {TestNode("node-a")}, bound);
  EXPECT_EQ(placed, (std::vector<std::string>{"node-a", "node-a", "node-a"}));
}

TEST(Schedule, PreferredAntiAffinityBalancesTwoNodes) {
  std::vector<Json> bound;
  const auto placed = ScheduleReplicas(4, false, {TestNode("node-a"), TestNode("node-b")}, bound);
  EXPECT_EQ(placed, (std::vector<std::string>{"node-a", "node-b", "node-a", "node-b"}));
}

TEST(Schedule, TutorialTolerationToleratesKbDataTaint) {
  Json node = TestNode("node-a");
  node["spec"]["taints"] = {Taint("kb-data", "true", "NoSchedule")};
  EXPECT_EQ(Schedule(WithKbDataToleration(TestPod("p")), {node}, {}).node, "node-a");

  const ScheduleDecision untolerated = Schedule(TestPod("p"), {node}, {});
  EXPECT_EQ(untolerated.node, "");
  EXPECT_EQ(untolerated.message, "0/1 nodes are available: 1 node(s) had untolerated taint {kb-data: true}.");
}

TEST(Schedule, TolerationOperatorsAndEffects) {
  Json node = TestNode("node-a");
  node["spec"]["taints"] = {Taint("dedicated", "gpu", "NoExecute")};
  Json pod = TestPod("p");

  pod["spec"]["tolerations"] = {{{"operator", "Exists"}}};
  EXPECT_EQ(Schedule(pod, {node}, {}).node, "node-a") << "empty key with Exists tolerates every taint";
  pod["spec"]["tolerations"] = {{{"key", "dedicated"}, {"operator", "Exists"}, {"effect", "NoExecute"}}};
  EXPECT_EQ(Schedule(pod, {node}, {}).node, "node-a");
  pod["spec"]["tolerations"] = {{{"key", "dedicated"}, {"value", "gpu"}}};
  EXPECT_EQ(Schedule(pod, {node}, {}).node, "node-a") << "an empty operator means Equal";
  pod["spec"]["tolerations"] = {{{"key", "dedicated"}, {"operator", "Equal"}, {"value", "cpu"}}};
  EXPECT_EQ(Schedule(pod, {node}, {}).node, "");
  pod["spec"]["tolerations"] = {{{"key", "dedicated"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}};
  EXPECT_EQ(Schedule(pod, {node}, {}).node, "") << "the effect must match";
}

TEST(Schedule, PreferNoScheduleTaintOnlyLowersScore) {
  Json tainted = TestNode("node-a");
  tainted["spec"]["taints"] = {Taint("spare", "", "PreferNoSchedule")};
  EXPECT_EQ(Schedule(TestPod("p"), {tainted, TestNode("node-b")}, {}).node, "node-b");
  EXPECT_EQ(Schedule(TestPod("p"), {tainted}, {}).node, "node-a");
}

TEST(Schedule, InsufficientMemory) {
  const ScheduleDecision decision = Schedule(TestPod("p", "1", "4Gi"), {TestNode("node-a", "4", "2Gi")}, {});
  EXPECT_EQ(decision.node, "");
  EXPECT_EQ(decision.message, "0/1 nodes are available: 1 Insufficient memory.");
}

TEST(Schedule, InsufficientCpuAndMemoryBothCounted) {
  const ScheduleDecision decision = Schedule(TestPod("p", "8", "4Gi"), {TestNode("node-a", "4", "2Gi")}, {});
  EXPECT_EQ(decision.message, "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.");
}

TEST(Schedule, BoundPodsUseCapacity) {
  const std::vector<Json> nodes = {TestNode("node-a", "2", "8Gi")};
  std::vector<Json> bound = {BoundTo(TestPod("big", "1500m", "1Gi"), "node-a")};
  const ScheduleDecision decision = Schedule(TestPod("p", "1", "1Gi"), nodes, bound);
  EXPECT_EQ(decision.message, "0/1 nodes are available: 1 Insufficient cpu.");
  EXPECT_EQ(Schedule(TestPod("p", "500m", "1Gi"), nodes, bound).node, "node-a");
}

TEST(Schedule, LimitsStandInForMissingRequests) {
  Json pod = TestPod("p");
  pod["spec"]["containers"][0]["resources"] = {{"limits", {{"cpu", "8"}}}};
  EXPECT_EQ(Schedule(pod, {TestNode("node-a", "4")}, {}).message, "0/1 nodes are available: 1 Insufficient cpu.");
}

TEST(Schedule, InitContainerRaisesRequest) {
  Json pod = TestPod("p", "1", "1Gi");
  pod["spec"]["initContainers"] = {{{"name", "init"}, {"resources", {{"requests", {{"memory", "16Gi"}}}}}}};
  EXPECT_EQ(Schedule(pod, {TestNode("node-a")}, {}).message, "0/1 nodes are available: 1 Insufficient memory.");
}

TEST(Schedule, ExtendedResourceMissingOnNode) {
  Json pod = TestPod("p");
  pod["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = "1";
  EXPECT_EQ(Schedule(pod, {TestNode("node-a")}, {}).message,
            "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.");
  Json gpu_node = TestNode("node-gpu");
  gpu_node["status"]["allocatable"]["nvidia.com/gpu"] = "2";
  EXPECT_EQ(Schedule(pod, {gpu_node}, {}).node, "node-gpu");
}

TEST(Schedule, TooManyPods) {
  Json node = TestNode("node-a");
  node["status"]["allocatable"]["pods"] = "1";
  std::vector<Json> bound = {BoundTo(TestPod("first", "0", "0"), "node-a")};
  EXPECT_EQ(Schedule(TestPod("p"), {node}, bound).message, "0/1 nodes are available: 1 Too many pods.");
}

TEST(Schedule, DeletingPodsStillCount) {
  Json deleting = BoundTo(TestPod("old", "4", "1Gi"), "node-a");
  deleting["metadata"]["deletionTimestamp"] = "2026-12-04T10:00:00Z";
  EXPECT_EQ(Schedule(TestPod("p"), {TestNode("node-a")}, {deleting}).message,
            "0/1 nodes are available: 1 Insufficient cpu.");

  Json anti = WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-1"), true);
  Json deleting_replica = BoundTo(TestPod("xinference-cluster-xinference-0", "0", "0"), "node-a");
  deleting_replica["metadata"]["deletionTimestamp"] = "2026-12-04T10:00:00Z";
  EXPECT_EQ(Schedule(anti, {TestNode("node-a")}, {deleting_replica}).node, "");
}

TEST(Schedule, TerminatedPodsDoNotCount) {
  for (const char* phase : {"Succeeded", "Failed"}) {
    Json finished = BoundTo(TestPod("old", "4", "8Gi"), "node-a");
    finished["status"]["phase"] = phase;
    EXPECT_EQ(Schedule(TestPod("p"), {TestNode("node-a")}, {finished}).node, "node-a") << phase;
  }
}

TEST(Schedule, NodeSelectorMismatch) {
  Json labelled = TestNode("node-b");
  labelled["metadata"]["labels"]["disk"] = "ssd";
  Json pod = TestPod("p");
  pod["spec"]["nodeSelector"] = {{"disk", "nvme"}};
  EXPECT_EQ(Schedule(pod, {TestNode("node-a"), labelled}, {}).message,
            "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.");
  pod["spec"]["nodeSelector"] = {{"disk", "ssd"}};
  EXPECT_EQ(Schedule(pod, {TestNode("node-a"), labelled}, {}).node, "node-b");
}

TEST(Schedule, RequiredNodeAffinityOperators) {
  Json node = TestNode("node-a");
  node["metadata"]["labels"]["gpus"] = "4";
  node["metadata"]["labels"]["zone"] = "z1";
  struct Case {
    Json expression;
    bool matches;
  };
  const std::vector<Case> cases = {
      {{{"key", "zone"}, {"operator", "In"}, {"values", {"z1", "z2"}}}, true},
      {{{"key", "zone"}, {"operator", "NotIn"}, {"values", {"z1"}}}, false},
      {{{"key", "zone"}, {"operator", "Exists"}}, true},
      {{{"key", "zone"}, {"operator", "DoesNotExist"}}, false},
      {{{"key", "gpus"}, {"operator", "Gt"}, {"values", {"2"}}}, true},
      {{{"key", "gpus"}, {"operator", "Lt"}, {"values", {"2"}}}, false},
      {{{"key", "gpus"}, {"operator", "Gt"}, {"values", {"two"}}}, false},
      {{{"key", "zone"}, {"operator", "Near"}, {"values", {"z1"}}}, false},
  };
  for (const Case& c : cases) {
    Json pod = TestPod("p");
    pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
        {"nodeSelectorTerms", {{{"matchExpressions", {c.expression}}}}}};
    EXPECT_EQ(Schedule(pod, {node}, {}).node.empty(), !c.matches) << c.expression.dump();
  }
}

TEST(Schedule, NodeAffinityTermsAreOredAndMatchFieldsByName) {
  Json pod = TestPod("p");
  pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {"nodeSelectorTerms",
       {{{"matchExpressions", {{{"key", "zone"}, {"operator", "Exists"}}}}},
        {{"matchFields", {{{"key", "metadata.name"}, {"operator", "In"}, {"values", {"node-b"}}}}}}}}};
  EXPECT_EQ(Schedule(pod, {TestNode("node-a"), TestNode("node-b")}, {}).node, "node-b");
}

TEST(Schedule, UnschedulableNode) {
  Json cordoned = TestNode("node-a");
  cordoned["spec"]["unschedulable"] = true;
  EXPECT_EQ(Schedule(TestPod("p"), {cordoned}, {}).message, "0/1 nodes are available: 1 node(s) were unschedulable.");
  Json pod = TestPod("p");
  pod["spec"]["tolerations"] = {{{"key", "node.kubernetes.io/unschedulable"}, {"operator", "Exists"}}};
  EXPECT_EQ(Schedule(pod, {cordoned}, {}).node, "node-a");
}

TEST(Schedule, ReasonsAggregatedAndSorted) {
  Json tainted = TestNode("node-a");
  tainted["spec"]["taints"] = {Taint("kb-data", "true", "NoSchedule")};
  const std::vector<Json> nodes = {tainted, TestNode("node-b", "4", "512Mi"), TestNode("node-c"),
                                   TestNode("node-d")};
  std::vector<Json> bound = {BoundTo(TestPod("xinference-cluster-xinference-0"), "node-c"),
                             BoundTo(TestPod("xinference-cluster-xinference-1"), "node-d")};
  Json pod = WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-2"), true);
  // Without the spread constraint, whose skew check runs first, node-c and node-d fail on
  // anti-affinity.
  pod["spec"].erase("topologySpreadConstraints");
  EXPECT_EQ(Schedule(pod, nodes, bound).message,
            "0/4 nodes are available: 1 Insufficient memory, 1 node(s) had untolerated taint {kb-data: true}, "
            "2 node(s) didn't match pod anti-affinity rules.");
}

TEST(Schedule, ExistingPodsAntiAffinityIsSymmetric) {
  Json guard = TestPod("guard");
  guard["metadata"]["labels"] = {{"role", "guard"}};
  guard["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = {
      {{"labelSelector", {{"matchLabels", {{testing::kInstanceLabel, "xinference-cluster"}}}}},
       {"topologyKey", "kubernetes.io/hostname"}}};
  EXPECT_EQ(Schedule(TestPod("p"), {TestNode("node-a")}, {BoundTo(guard, "node-a")}).message,
            "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
}

TEST(Schedule, HardSpreadLimitsSkewAcrossZones) {
  std::vector<Json> nodes;
  for (const auto& [name, zone] : {std::pair{"node-a", "z1"}, {"node-b", "z1"}, {"node-c", "z2"}}) {
    Json node = TestNode(name);
    node["metadata"]["labels"]["topology.kubernetes.io/zone"] = zone;
    nodes.push_back(node);
  }
  Json pod = TestPod("xinference-cluster-xinference-1");
  pod["spec"]["topologySpreadConstraints"] = {{{"maxSkew", 1},
                                               {"topologyKey", "topology.kubernetes.io/zone"},
                                               {"whenUnsatisfiable", "DoNotSchedule"},
                                               {"labelSelector", {{"matchLabels", pod["metadata"]["labels"]}}}}};
  std::vector<Json> bound = {BoundTo(TestPod("xinference-cluster-xinference-0"), "node-a")};
  EXPECT_EQ(Schedule(pod, nodes, bound).node, "node-c");

}

TEST(Schedule, HardSpreadCountsMissingDomainsAsEmpty) {
  Json zoned = TestNode("node-a");
  zoned["metadata"]["labels"]["topology.kubernetes.io/zone"] = "z1";
  Json pod = TestPod("xinference-cluster-xinference-1");
  // With one zone but minDomains 2, the minimum count is taken as 0, so a second pod in z1
  // would make the skew 2.
  pod["spec"]["topologySpreadConstraints"] = {{{"maxSkew", 1},
                                               {"minDomains", 2},
                                               {"topologyKey", "topology.kubernetes.io/zone"},
                                               {"whenUnsatisfiable", "DoNotSchedule"},
                                               {"labelSelector", {{"matchLabels", pod["metadata"]["labels"]}}}}};
  std::vector<Json> bound = {BoundTo(TestPod("xinference-cluster-xinference-0"), "node-a")};
  EXPECT_EQ(Schedule(pod, {zoned, TestNode("node-b")}, bound).message,
            "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't "
            "match pod topology spread constraints (missing required label).");
}

TEST(Schedule, LeastRequestedNodeWins) {
  std::vector<Json> bound = {BoundTo(TestPod("busy", "2", "4Gi"), "node-a")};
  EXPECT_EQ(Schedule(TestPod("p"), {TestNode("node-a"), TestNode("node-b")}, bound).node, "node-b");
}

TEST(Schedule, TiesGoToFirstNodeName) {
  EXPECT_EQ(Schedule(TestPod("p"), {TestNode("node-c"), TestNode("node-a"), TestNode("node-b")}, {}).node, "node-a");
}

TEST(Schedule, NoNodes) {
  const ScheduleDecision decision = Schedule(TestPod("p"), {}, {});
  EXPECT_EQ(decision.node, "");
  EXPECT_EQ(decision.message, "no nodes available to schedule pods");
}

TEST(Schedule, MalformedFieldsDoNotCrash) {
  const std::vector<Json> odd_pods = {
      Json(nullptr),
      Json::array(),
      Json::parse(R"({"spec":{"containers":"x","tolerations":{"a":1},"nodeSelector":[1]}})"),
      Json::parse(R"({"spec":{"containers":[{"resources":{"requests":{"cpu":"lots","memory":[1]}}}]}})"),
      Json::parse(R"({"spec":{"affinity":{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":
          [{"labelSelector":{"matchLabels":7},"topologyKey":"kubernetes.io/hostname"},5]}}}})"),
      Json::parse(R"({"spec":{"topologySpreadConstraints":[{"maxSkew":-9,"topologyKey":"kubernetes.io/hostname",
          "whenUnsatisfiable":"DoNotSchedule","labelSelector":"x"}]}})"),
      Json::parse(R"({"spec":{"containers":[{"resources":{"requests":{"cpu":"9223372036854775807",
          "memory":"9223372036854775807"}}}]}})"),
  };
  Json odd_node = Json::parse(R"({"metadata":{"name":"node-x","labels":[1]},"spec":{"taints":"t",
      "unschedulable":"yes"},"status":{"allocatable":{"cpu":{},"memory":"-5"}}})");
  for (const Json& pod : odd_pods) {
    const ScheduleDecision decision = Schedule(pod, {TestNode("node-a"), odd_node, Json(5)}, {pod, Json("x")});
    EXPECT_TRUE(decision.node.empty() != decision.message.empty()) << pod.dump();
  }
}

}  // namespace
}  // namespace xblocks::node
