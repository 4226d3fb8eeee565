#include <gtest/gtest.h>

#include "controllers/phases.h"

namespace xblocks::controllers {
namespace {

ComponentObservation Healthy(int replicas) {
  ComponentObservation o;
  o.current_replicas = replicas;
  o.desired_replicas = replicas;
  o.ready_replicas = replicas;
  o.up_to_date = true;
  o.current_phase = "Creating";
  return o;
}

TEST(ComponentPhase, DeletingWins) {
  ComponentObservation o = Healthy(1);
  o.instance_set_deleting = true;
  o.stopped = true;
  EXPECT_EQ(ComponentPhase(o), "Deleting");
}

TEST(ComponentPhase, StoppingThenStopped) {
  ComponentObservation o = Healthy(1);
  o.stopped = true;
  EXPECT_EQ(ComponentPhase(o), "Stopping");
  o.current_replicas = 0;
  EXPECT_EQ(ComponentPhase(o), "Stopped");
}

TEST(ComponentPhase, RunningWhenAllReady) {
  EXPECT_EQ(ComponentPhase(Healthy(3)), "Running");
}

TEST(ComponentPhase, CreatingUntilFirstRunning) {
  ComponentObservation o = Healthy(3);
  o.ready_replicas = 1;
  EXPECT_EQ(ComponentPhase(o), "Creating");
  o.current_phase = "";
  EXPECT_EQ(ComponentPhase(o), "Creating");
}

TEST(ComponentPhase, UpdatingAfterRunning) {
  ComponentObservation o = Healthy(3);
  o.current_phase = "Running";
  o.up_to_date = false;
  EXPECT_EQ(ComponentPhase(o), "Updating");
}

TEST(ComponentPhase, FailedWithoutAvailablePods) {
  ComponentObservation o = Healthy(2);
  o.ready_replicas = 0;
  o.failure = true;
  EXPECT_EQ(ComponentPhase(o), "Failed");
}

TEST(ComponentPhase, AbnormalWithSomeAvailable) {
  ComponentObservation o = Healthy(2);
  o.ready_replicas = 1;
  o.failure = true;
  EXPECT_EQ(ComponentPhase(o), "Abnormal");
}

TEST(PodReady, ReadsReadyCondition) {
  Json pod = {{"metadata", {{"name", "p"}}},
              {"status", {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  EXPECT_TRUE(PodReady(pod));
  pod["metadata"]["deletionTimestamp"] = "2026-12-04T10:00:00Z";
  EXPECT_FALSE(PodReady(pod));
  EXPECT_FALSE(PodReady(Json::object()));
}

TEST(PodFailed, CrashLoopAndPhase) {
  Json crash = {{"status", {{"containerStatuses", {{{"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}}}}}};
  EXPECT_TRUE(PodFailed(crash));
  Json starting = {{"status", {{"containerStatuses", {{{"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}}}}}}};
  EXPECT_FALSE(PodFailed(starting));
  EXPECT_TRUE(PodFailed({{"status", {{"phase", "Failed"}}}}));
  EXPECT_FALSE(PodFailed({{"status", "bogus"}}));
}

TEST(ClusterPhase, Table) {
  EXPECT_EQ(ClusterPhase({"Stopped", "Stopped"}), "Stopped");
  EXPECT_EQ(ClusterPhase({"Running", "Stopped"}), "Running");
  EXPECT_EQ(ClusterPhase({"Creating"}), "Creating");
  EXPECT_EQ(ClusterPhase({"Creating", "Running"}), "Updating");
  EXPECT_EQ(ClusterPhase({"Stopping", "Running"}), "Stopping");
  EXPECT_EQ(ClusterPhase({"Failed", "Failed"}), "Failed");
  EXPECT_EQ(ClusterPhase({"Failed", "Running"}), "Abnormal");
  EXPECT_EQ(ClusterPhase({"Deleting"}), std::nullopt);
  EXPECT_EQ(ClusterPhase({}), std::nullopt);
}

}  // namespace
}  // namespace xblocks::controllers
