#include <gtest/gtest.h>

#include <set>

#include "api/json_fields.h"
#include "node/scheduler.h"
#include "node_test_support.h"

namespace xblocks::node {
namespace {

using testing::TestNode;
using testing::TestPod;
using testing::WithComponentAntiAffinity;

class SchedulerSync : public testing::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    scheduler_ = std::make_unique<Scheduler>(*client_, clock_);
  }

  void AddNode(const Json& node) {
    auto created = client_->Create(client::resources::kNodes, node);
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  void AddPod(const Json& pod) {
    auto created = client_->Create(client::resources::kPods, pod);
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  Json GetPod(const std::string& name) {
    auto pod = client_->Get(client::resources::kPods, "demo", name);
    EXPECT_TRUE(pod.ok()) << pod.status().message();
    return pod.ok() ? *pod : Json();
  }

  std::vector<Json> Events(const std::string& reason) {
    client::ListOptions options;
    options.field_selector = "reason=" + reason;
    auto listed = client_->List(client::resources::kEvents, "demo", options);
    EXPECT_TRUE(listed.ok()) << listed.status().message();
    return listed.ok() ? listed->items : std::vector<Json>{};
  }

  static Json PodScheduled(const Json& pod) {
    for (const Json& condition : api::ArrayAt(pod, "status.conditions")) {
      if (condition["type"] == "PodScheduled") return condition;
    }
    return Json();
  }

  void AddReplicas(int count) {
    for (int i = 0; i < count; ++i) {
      AddPod(WithComponentAntiAffinity(TestPod("xinference-cluster-xinference-" + std::to_string(i)), true));
    }
  }

  std::unique_ptr<Scheduler> scheduler_;
};

TEST_F(SchedulerSync, BindsPendingPod) {
  AddNode(TestNode("node-a"));
  AddPod(TestPod("p"));
  ASSERT_TRUE(scheduler_->Sync().ok());

  const Json pod = GetPod("p");
  EXPECT_EQ(api::StringAt(pod, "spec.nodeName"), "node-a");
  const Json condition = PodScheduled(pod);
  EXPECT_EQ(condition["status"], "True");
  EXPECT_EQ(condition["lastTransitionTime"], "2026-12-04T10:00:00Z");

  const std::vector<Json> events = Events("Scheduled");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "Normal");
  EXPECT_EQ(events[0]["message"], "Successfully assigned demo/p to node-a");
  EXPECT_EQ(events[0]["involvedObject"]["uid"], pod["metadata"]["uid"]);
}

TEST_F(SchedulerSync, OneReplicaPerNodeThenUnschedulable) {
  for (const char* name : {"node-a", "node-b", "node-c"}) AddNode(TestNode(name));
  AddReplicas(4);
  ASSERT_TRUE(scheduler_->Sync().ok());

  std::set<std::string> used;
  for (int i = 0; i < 3; ++i) used.insert(api::StringAt(GetPod("xinference-cluster-xinference-" + std::to_string(i)), "spec.nodeName"));
  EXPECT_EQ(used, (std::set<std::string>{"node-a", "node-b", "node-c"}));

  const Json fourth = GetPod("xinference-cluster-xinference-3");
  EXPECT_EQ(api::StringAt(fourth, "spec.nodeName"), "");
  const Json condition = PodScheduled(fourth);
  EXPECT_EQ(condition["status"], "False");
  EXPECT_EQ(condition["reason"], "Unschedulable");
  EXPECT_EQ(condition["message"], "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
}

TEST_F(SchedulerSync, FailedSchedulingEventCountGrows) {
  AddNode(TestNode("node-a"));
  AddReplicas(2);
  ASSERT_TRUE(scheduler_->Sync().ok());
  std::vector<Json> events = Events("FailedScheduling");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "Warning");
  EXPECT_EQ(events[0]["count"], 1);
  EXPECT_EQ(events[0]["source"]["component"], "default-scheduler");
  EXPECT_EQ(events[0]["reportingComponent"], "default-scheduler");
  EXPECT_EQ(events[0]["involvedObject"]["name"], "xinference-cluster-xinference-1");
  EXPECT_EQ(events[0]["involvedObject"]["uid"], GetPod("xinference-cluster-xinference-1")["metadata"]["uid"]);
  EXPECT_EQ(events[0]["message"], "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.");
  const Json pod_before = GetPod("xinference-cluster-xinference-1");

  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(scheduler_->Sync().ok());
  events = Events("FailedScheduling");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 2);
  EXPECT_EQ(events[0]["firstTimestamp"], "2026-12-04T10:00:00Z");
  EXPECT_EQ(events[0]["lastTimestamp"], "2026-12-04T10:00:30Z");
  // An unchanged outcome does not rewrite the pod.
  EXPECT_EQ(GetPod("xinference-cluster-xinference-1")["metadata"]["resourceVersion"],
            pod_before["metadata"]["resourceVersion"]);
}

// Every store write triggers a pass, so a pass that wrote on each unchanged failure would
// trigger the next one at once and never stop.
TEST_F(SchedulerSync, UnchangedFailureWaitsForBackoff) {
  AddNode(TestNode("node-a"));
  AddReplicas(2);
  ASSERT_TRUE(scheduler_->Sync().ok());
  auto count = [&] {
    const std::vector<Json> events = Events("FailedScheduling");
    return events.size() == 1 ? api::IntAt(events[0], "count", 0) : -1;
  };
  const int64_t revision = store_->CurrentRevision();
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(count(), 1);
  EXPECT_EQ(store_->CurrentRevision(), revision) << "a pass with nothing new wrote to the store";

  // The backoff starts at 1 s and doubles.
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(count(), 2);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(count(), 2);
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(count(), 3);
}

TEST_F(SchedulerSync, FreedCapacityIsUsed) {
  AddNode(TestNode("node-a", "2", "8Gi"));
  AddPod(TestPod("first", "2"));
  AddPod(TestPod("second", "2"));
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(api::StringAt(GetPod("second"), "spec.nodeName"), "");
  EXPECT_EQ(PodScheduled(GetPod("second"))["message"], "0/1 nodes are available: 1 Insufficient cpu.");

  // A bound pod keeps its place until its node agent removes it with a grace period of 0.
  ASSERT_TRUE(client_->Delete(client::resources::kPods, "demo", "first", {}).ok());
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(api::StringAt(GetPod("second"), "spec.nodeName"), "");
  ASSERT_TRUE(client_->Delete(client::resources::kPods, "demo", "first", {.grace_period_seconds = 0}).ok());
  ASSERT_TRUE(scheduler_->Sync().ok());
  const Json second = GetPod("second");
  EXPECT_EQ(api::StringAt(second, "spec.nodeName"), "node-a");
  EXPECT_EQ(PodScheduled(second)["status"], "True");
}

TEST_F(SchedulerSync, PodsBoundInOnePassCountForLaterOnes) {
  AddNode(TestNode("node-a", "4"));
  AddNode(TestNode("node-b", "4"));
  AddPod(TestPod("first", "3"));
  AddPod(TestPod("second", "3"));
  ASSERT_TRUE(scheduler_->Sync().ok());
  const std::string first = api::StringAt(GetPod("first"), "spec.nodeName");
  const std::string second = api::StringAt(GetPod("second"), "spec.nodeName");
  EXPECT_FALSE(first.empty());
  EXPECT_FALSE(second.empty());
  EXPECT_NE(first, second);
}

TEST_F(SchedulerSync, LeavesOtherSchedulersPods) {
  AddNode(TestNode("node-a"));
  Json pod = TestPod("custom");
  pod["spec"]["schedulerName"] = "volcano";
  AddPod(pod);
  AddPod(TestPod("named"));
  Json explicit_pod = TestPod("explicit");
  explicit_pod["spec"]["schedulerName"] = "default-scheduler";
  AddPod(explicit_pod);
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(api::StringAt(GetPod("custom"), "spec.nodeName"), "");
  EXPECT_TRUE(PodScheduled(GetPod("custom")).is_null());
  EXPECT_EQ(api::StringAt(GetPod("named"), "spec.nodeName"), "node-a");
  EXPECT_EQ(api::StringAt(GetPod("explicit"), "spec.nodeName"), "node-a");
}

TEST_F(SchedulerSync, NoNodesLeavesPodPending) {
  AddPod(TestPod("p"));
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(PodScheduled(GetPod("p"))["message"], "no nodes available to schedule pods");
  EXPECT_EQ(Events("FailedScheduling").size(), 1u);
}

TEST_F(SchedulerSync, NewMessageGetsNewEvent) {
  AddNode(TestNode("node-a", "1"));
  AddPod(TestPod("p", "2"));
  ASSERT_TRUE(scheduler_->Sync().ok());
  AddNode(TestNode("node-b", "1"));
  ASSERT_TRUE(scheduler_->Sync().ok());
  EXPECT_EQ(PodScheduled(GetPod("p"))["message"], "0/2 nodes are available: 2 Insufficient cpu.");
  EXPECT_EQ(Events("FailedScheduling").size(), 2u);
}

}  // namespace
}  // namespace xblocks::node
