// The per-type OpsRequest rules: phases, validation, cluster changes and progress counting.
#include <gtest/gtest.h>

#include "controllers/kubeblocks_names.h"
#include "controllers/ops_request_types.h"

namespace xblocks::controllers::ops {
namespace {

Json Cluster(int replicas = 1) {
  Json cluster = Json::parse(R"json({
    "metadata": {"name": "mycluster", "namespace": "demo"},
    "spec": {"componentSpecs": [{"name": "xinference", "componentDefRef": "xinference", "replicas": 1,
             "resources": {"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                           "limits": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"}}}]},
    "status": {"phase": "Running", "components": {"xinference": {"phase": "Running"}}}})json");
  cluster["spec"]["componentSpecs"][0]["replicas"] = replicas;
  return cluster;
}

Json Ops(const std::string& type, const Json& spec_extra = Json::object()) {
  Json ops = {{"metadata", {{"name", "op"}, {"uid", "0123456789abcdef"}}},
              {"spec", {{"clusterName", "mycluster"}, {"type", type}}},
              {"status", {{"startTimestamp", "2026-12-04T10:00:00Z"}}}};
  for (const auto& [key, value] : spec_extra.items()) ops["spec"][key] = value;
  return ops;
}

Json VerticalScaling(const Json& requests, const Json& limits) {
  return Ops("VerticalScaling",
             {{"verticalScaling", {{{"componentName", "xinference"}, {"requests", requests}, {"limits", limits}}}}});
}

Json Pod(int ordinal, bool ready, const Json& annotations = Json::object(), const Json& resources = Json::object()) {
  Json pod = {{"metadata",
               {{"name", "mycluster-xinference-" + std::to_string(ordinal)},
                {"labels", {{kb::kComponentNameLabel, "xinference"}}},
                {"annotations", annotations}}},
              {"spec", {{"containers", {{{"name", "xinference"}, {"resources", resources}}}}}},
              {"status", {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
  return pod;
}

TEST(OpsPhases, AllowedClusterPhasesFollowKubeBlocks) {
  EXPECT_TRUE(AllowedInPhase("Restart", "Running"));
  EXPECT_FALSE(AllowedInPhase("Restart", "Stopped"));
  EXPECT_FALSE(AllowedInPhase("VerticalScaling", "Updating"));
  EXPECT_TRUE(AllowedInPhase("Stop", "Updating"));
  EXPECT_TRUE(AllowedInPhase("Start", "Stopped"));
  EXPECT_FALSE(AllowedInPhase("Upgrade", "Running")) << "unsupported types are never allowed";
}

TEST(OpsValidate, EmptyListAndUnknownComponent) {
  EXPECT_EQ(Validate(Ops("Restart"), Cluster()), "\"spec.restart\" can not be empty");
  EXPECT_EQ(Validate(Ops("Restart", {{"restart", {{{"componentName", "nope"}}}}}), Cluster()),
            "components: [nope] not found, in cluster.spec.componentSpecs; the cluster has: [xinference]");
  EXPECT_EQ(Validate(Ops("Stop"), Cluster()), "") << "Stop with no list targets every component";
}

TEST(OpsValidate, VerticalScalingResources) {
  EXPECT_EQ(Validate(VerticalScaling({{"cpu", "2"}}, {{"cpu", "2"}}), Cluster()), "");
  const std::string negative = Validate(VerticalScaling({{"cpu", "-1"}}, Json::object()), Cluster());
  EXPECT_NE(negative.find("must be greater than or equal to 0"), std::string::npos) << negative;
  const std::string unparsable = Validate(VerticalScaling({{"memory", "lots"}}, Json::object()), Cluster());
  EXPECT_NE(unparsable.find("invalid value for \"lots\""), std::string::npos) << unparsable;
  const std::string above = Validate(VerticalScaling({{"cpu", "3"}}, {{"cpu", "2"}}), Cluster());
  EXPECT_EQ(above, "invalid value for \"3\": must be less than or equal to cpu limit (2)");
  // A request above the current limit fails too, because the limit stays.
  EXPECT_NE(Validate(VerticalScaling({{"memory", "2Gi"}}, Json::object()), Cluster()).find("memory limit"),
            std::string::npos);
  const std::string fractional = Validate(VerticalScaling({{"memory", "644245094400m"}}, {{"memory", "1Gi"}}), Cluster());
  EXPECT_NE(fractional.find("whole number of bytes"), std::string::npos) << fractional;
  const std::string key = Validate(VerticalScaling({{"gpu", "1"}}, Json::object()), Cluster());
  EXPECT_NE(key.find("resource key"), std::string::npos) << key;
}

TEST(OpsValidate, HorizontalScaling) {
  auto scale = [](const Json& entry) {
    Json item = entry;
    item["componentName"] = "xinference";
    return Ops("HorizontalScaling", {{"horizontalScaling", {item}}});
  };
  EXPECT_EQ(Validate(scale({{"scaleOut", {{"replicaChanges", 2}}}}), Cluster()), "");
  EXPECT_EQ(Validate(scale({{"scaleIn", {{"replicaChanges", 2}}}}), Cluster()),
            "\"scaleIn.replicaChanges\" can't be greater than 1 for component \"xinference\"");
  EXPECT_NE(Validate(scale({{"replicas", -1}}), Cluster()).find("greater than or equal to 0"), std::string::npos);
  EXPECT_NE(Validate(scale({{"replicas", 2}, {"scaleOut", {{"replicaChanges", 1}}}}), Cluster()).find("deprecated"),
            std::string::npos);
}

TEST(OpsValidate, InstanceSelectionRejected) {
  auto scale = [](const Json& entry) {
    Json item = entry;
    item["componentName"] = "xinference";
    return Ops("HorizontalScaling", {{"horizontalScaling", {item}}});
  };
  const std::string offline = Validate(
      scale({{"scaleIn", {{"replicaChanges", 1}, {"onlineInstancesToOffline", {"mycluster-xinference-0"}}}}}),
      Cluster(2));
  EXPECT_NE(offline.find("spec.horizontalScaling[xinference].scaleIn.onlineInstancesToOffline is not supported"),
            std::string::npos)
      << offline;
  EXPECT_NE(offline.find("use replicaChanges"), std::string::npos) << offline;
  EXPECT_NE(Validate(scale({{"shards", 2}}), Cluster()).find("shards is not supported"), std::string::npos);
  EXPECT_NE(Validate(scale({{"scaleOut", {{"replicaChanges", 1}, {"newInstances", {{{"name", "gpu"}}}}}}}), Cluster())
                .find("scaleOut.newInstances"),
            std::string::npos);

  Json vertical = VerticalScaling({{"cpu", "2"}}, {{"cpu", "2"}});
  vertical["spec"]["verticalScaling"][0]["instances"] = {{{"name", "gpu"}}};
  EXPECT_NE(Validate(vertical, Cluster()).find("spec.verticalScaling[xinference].instances is not supported"),
            std::string::npos);
  // Empty lists, as some tools write them, select nothing and pass.
  EXPECT_EQ(Validate(scale({{"scaleOut", {{"replicaChanges", 1}, {"newInstances", Json::array()}}}}), Cluster()), "");
}

TEST(OpsApply, VerticalScalingKeepsUnnamedKeys) {
  Json ops = VerticalScaling({{"cpu", "2"}, {"memory", "2Gi"}}, {{"cpu", "2"}, {"memory", "4Gi"}});
  ops["status"]["lastConfiguration"] = LastConfiguration(ops, Cluster());
  Json scaled = ApplyToCluster(ops, Cluster(), false);
  const Json& resources = scaled["spec"]["componentSpecs"][0]["resources"];
  EXPECT_EQ(resources["limits"]["memory"], "4Gi");
  EXPECT_EQ(resources["requests"]["cpu"], "2");
  EXPECT_EQ(resources["limits"]["nvidia.com/gpu"], "1") << "a GPU limit is never dropped";

  Json rolled = ApplyToCluster(ops, scaled, true);
  EXPECT_EQ(rolled["spec"]["componentSpecs"][0]["resources"], Cluster()["spec"]["componentSpecs"][0]["resources"]);
}

TEST(OpsApply, StopStartAndHorizontalScaling) {
  Json stopped = ApplyToCluster(Ops("Stop"), Cluster(), false);
  EXPECT_EQ(stopped["spec"]["componentSpecs"][0]["stop"], true);
  EXPECT_EQ(stopped["spec"]["componentSpecs"][0]["replicas"], 1) << "Stop keeps replicas";
  Json started = ApplyToCluster(Ops("Start"), stopped, false);
  EXPECT_FALSE(started["spec"]["componentSpecs"][0].contains("stop"));

  Json ops = Ops("HorizontalScaling", {{"horizontalScaling", {{{"componentName", "xinference"},
                                                                {"scaleOut", {{"replicaChanges", 2}}}}}}});
  ops["status"]["lastConfiguration"] = LastConfiguration(ops, Cluster());
  Json scaled = ApplyToCluster(ops, Cluster(), false);
  EXPECT_EQ(scaled["spec"]["componentSpecs"][0]["replicas"], 3);
  EXPECT_EQ(ApplyToCluster(ops, scaled, false), scaled) << "applying twice changes nothing";
}

TEST(OpsProgress, RestartCountsOnlyPodsWithThisStamp) {
  Json ops = Ops("Restart", {{"restart", {{{"componentName", "xinference"}}}}});
  const std::string stamp = RestartStamp(ops);
  EXPECT_EQ(stamp, "2026-12-04T10:00:00Z/01234567");
  Json cluster = Cluster(3);
  std::vector<Json> pods = {Pod(0, true), Pod(1, true, {{kb::kRestartAnnotation, "older"}}),
                            Pod(2, true, {{kb::kRestartAnnotation, stamp}})};
  Progress progress = ComputeProgress(ops, cluster, pods);
  EXPECT_EQ(progress.expected, 3);
  EXPECT_EQ(progress.completed, 1);
  ASSERT_EQ(progress.pods.size(), 3u);
  EXPECT_EQ(progress.pods[0].status, "Pending");
  EXPECT_EQ(progress.pods[2].status, "Succeed");
  EXPECT_EQ(progress.pods[2].message, "Successfully restart: Pod/mycluster-xinference-2 in Component: xinference");
}

TEST(OpsProgress, VerticalScalingComparesQuantitiesNumerically) {
  Json ops = VerticalScaling({{"memory", "1Gi"}}, {{"memory", "1Gi"}});
  Json cluster = Cluster();
  cluster["spec"]["componentSpecs"][0]["resources"] = {{"limits", {{"cpu", "1"}, {"memory", "1Gi"}}}};
  const Json same = {{"limits", {{"cpu", "1000m"}, {"memory", "1073741824"}}},
                     {"requests", {{"cpu", "1"}, {"memory", "1024Mi"}}}};
  Progress progress = ComputeProgress(ops, cluster, {Pod(0, true, Json::object(), same)});
  EXPECT_EQ(progress.completed, 1);
  EXPECT_TRUE(progress.settled);
  const Json other = {{"limits", {{"cpu", "1"}, {"memory", "2Gi"}}}};
  EXPECT_EQ(ComputeProgress(ops, cluster, {Pod(0, true, Json::object(), other)}).completed, 0);
}

TEST(OpsProgress, StopWaitsForPodsGoneAndStoppedPhase) {
  Json cluster = Cluster(2);
  Progress progress = ComputeProgress(Ops("Stop"), cluster, {Pod(1, true)});
  EXPECT_EQ(progress.expected, 2);
  EXPECT_EQ(progress.completed, 1);
  cluster["status"]["components"]["xinference"]["phase"] = "Stopped";
  progress = ComputeProgress(Ops("Stop"), cluster, {});
  EXPECT_EQ(progress.completed, 2);
  EXPECT_TRUE(progress.settled);
}

TEST(OpsProgress, HorizontalScalingCountsOnlyChangedOrdinals) {
  Json ops = Ops("HorizontalScaling", {{"horizontalScaling", {{{"componentName", "xinference"}, {"replicas", 3}}}}});
  ops["status"]["lastConfiguration"] = LastConfiguration(ops, Cluster(1));
  Progress progress = ComputeProgress(ops, Cluster(3), {Pod(0, true), Pod(1, true), Pod(2, false)});
  EXPECT_EQ(progress.expected, 2);
  EXPECT_EQ(progress.completed, 1);
  Progress unchanged = ComputeProgress(ops, Cluster(1), {Pod(0, true)});
  EXPECT_EQ(unchanged.expected, 0) << "replicas unchanged: 0/0";
}

TEST(OpsQuantities, SameQuantity) {
  EXPECT_TRUE(SameQuantity("1Gi", "1073741824"));
  EXPECT_TRUE(SameQuantity("0.5", "500m"));
  EXPECT_FALSE(SameQuantity("1G", "1Gi"));
  EXPECT_FALSE(SameQuantity("bad", "1"));
}

}  // namespace
}  // namespace xblocks::controllers::ops
