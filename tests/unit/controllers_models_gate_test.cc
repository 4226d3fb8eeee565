// The models-ready readiness gate: when a pod counts as serving its Cluster's declared Models.
#include <gtest/gtest.h>

#include "controllers/models_gate.h"

namespace xblocks::controllers {
namespace {

Json Pod(const std::string& uid) {
  return {{"metadata", {{"name", "mycluster-xinference-0"}, {"namespace", "demo"}, {"uid", uid}}}};
}

// A Model whose status lists one entry per {pod uid, state}.
Json Model(const std::string& name, const std::vector<std::pair<std::string, std::string>>& replicas) {
  Json entries = Json::array();
  for (const auto& [uid, state] : replicas) entries.push_back({{"podUID", uid}, {"state", state}});
  return {{"metadata", {{"name", name}, {"namespace", "demo"}}}, {"status", {{"replicas", entries}}}};
}

TEST(ModelsGate, NoModelsMeansReady) {
  ModelsGate gate = EvaluateModelsGate(Pod("p1"), {});
  EXPECT_TRUE(gate.ready);
  EXPECT_EQ(gate.reason, "ModelsServed");
  EXPECT_EQ(gate.message, "the cluster declares no models");
}

TEST(ModelsGate, ReadyOrFailedHereSettlesTheGate) {
  ModelsGate gate = EvaluateModelsGate(Pod("p1"), {Model("bge", {{"p1", "Ready"}}), Model("big", {{"p1", "Failed"}})});
  EXPECT_TRUE(gate.ready) << gate.message;
  EXPECT_EQ(gate.message, "2 declared models settled");
}

TEST(ModelsGate, LaunchingOrAbsentHereHoldsTheGate) {
  // bge is Ready on another pod only, and qwen is still launching here.
  ModelsGate gate = EvaluateModelsGate(Pod("p1"), {Model("bge", {{"p0", "Ready"}}), Model("qwen", {{"p1", "Launching"}})});
  EXPECT_FALSE(gate.ready);
  EXPECT_EQ(gate.reason, "ModelsLoading");
  EXPECT_EQ(gate.message, "waiting for declared models: bge (Pending), qwen (Launching)");
}

TEST(ModelsGate, DeletedModelIsIgnored) {
  Json deleting = Model("bge", {});
  deleting["metadata"]["deletionTimestamp"] = "2026-12-05T00:00:00Z";
  EXPECT_TRUE(EvaluateModelsGate(Pod("p1"), {deleting}).ready);
}

Json Running(const std::string& started_at) {
  Json pod = Pod("p1");
  pod["status"]["containerStatuses"] = {{{"name", "xinference"}, {"state", {{"running", {{"startedAt", started_at}}}}}}};
  return pod;
}

Json Gate(const std::string& status, const std::string& since) {
  return {{"type", kModelsReadyGate}, {"status", status}, {"lastTransitionTime", since}};
}

TEST(ModelsGate, TrueAfterTheContainerStartedStays) {
  EXPECT_TRUE(SettledSinceContainersStarted(Gate("True", "2026-12-05T10:00:09Z"), Running("2026-12-05T10:00:00Z")));
}

TEST(ModelsGate, ContainerRestartedSinceIsEvaluatedAgain) {
  EXPECT_FALSE(SettledSinceContainersStarted(Gate("True", "2026-12-05T10:00:09Z"), Running("2026-12-05T10:05:00Z")));
  // The same second counts as restarted: the models may not have been back yet.
  EXPECT_FALSE(SettledSinceContainersStarted(Gate("True", "2026-12-05T10:00:09Z"), Running("2026-12-05T10:00:09Z")));
}

TEST(ModelsGate, FalseOrNotRunningIsEvaluatedAgain) {
  EXPECT_FALSE(SettledSinceContainersStarted(Gate("False", "2026-12-05T10:00:09Z"), Running("2026-12-05T10:00:00Z")));
  EXPECT_FALSE(SettledSinceContainersStarted(Gate("True", "2026-12-05T10:00:09Z"), Pod("p1")));
}

}  // namespace
}  // namespace xblocks::controllers
