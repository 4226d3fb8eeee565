// ApplyObject: create, merge into the live object, and leave objects being deleted alone.
#include <gtest/gtest.h>

#include "apiserver/object_meta.h"
#include "controllers/apply.h"
#include "controllers/halt_recovery.h"
#include "controllers_framework_test_support.h"

namespace xblocks::controllers {
namespace {

using client::resources::kConfigMaps;

class ApplyObjectTest : public testing::ClientFixture {};

TEST_F(ApplyObjectTest, CreatesThenUpdatesThenLeavesUnchanged) {
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  ASSERT_TRUE(ApplyObject(*client_, kConfigMaps, ConfigMap("cm"), &outcome).ok());
  EXPECT_EQ(outcome, ApplyOutcome::kCreated);
  auto updated = ApplyObject(*client_, kConfigMaps, ConfigMap("cm", {{"a", "2"}}), &outcome);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(outcome, ApplyOutcome::kUpdated);
  EXPECT_EQ((*updated)["data"]["a"], "2");
  ASSERT_TRUE(ApplyObject(*client_, kConfigMaps, ConfigMap("cm", {{"a", "2"}}), &outcome).ok());
  EXPECT_EQ(outcome, ApplyOutcome::kUnchanged);
}

// Regression: re-applying a finalizer to an object being deleted was refused with 422 and
// retried without end.
TEST_F(ApplyObjectTest, LeavesDeletingObjectAlone) {
  Json desired = ConfigMap("cm");
  desired["metadata"]["finalizers"] = {"example.com/hold", "example.com/other"};
  ASSERT_TRUE(client_->Create(kConfigMaps, desired).ok());
  ASSERT_TRUE(client_->Delete(kConfigMaps, "demo", "cm", {}).ok());
  auto live = client_->Get(kConfigMaps, "demo", "cm");
  ASSERT_TRUE(live.ok());
  Json released = *live;
  released["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_TRUE(client_->Update(kConfigMaps, released).ok());

  ApplyOutcome outcome = ApplyOutcome::kCreated;
  desired["data"]["a"] = "changed";
  auto applied = ApplyObject(*client_, kConfigMaps, desired, &outcome);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ(outcome, ApplyOutcome::kUnchanged);
  EXPECT_TRUE(apiserver::IsDeleting(*applied));
  EXPECT_EQ((*applied)["metadata"]["finalizers"], Json({"example.com/hold"}));
  EXPECT_EQ((*applied)["data"]["a"], "1");
}

// Regression: a component reconcile that raced with a Halt deletion gave a kept ConfigMap its
// InstanceSet owner again, and the garbage collector deleted it with the InstanceSet.
TEST_F(ApplyObjectTest, KeepsOwnersOfObjectKeptByHalt) {
  Json kept = ConfigMap("kept");
  kept["metadata"]["annotations"] = {{kLastAppliedClusterAnnotation, "{}"}};
  ASSERT_TRUE(client_->Create(kConfigMaps, kept).ok());

  Json desired = ConfigMap("kept", {{"a", "2"}});
  desired["metadata"]["ownerReferences"] = {{{"apiVersion", "workloads.kubeblocks.io/v1alpha1"},
                                             {"kind", "InstanceSet"},
                                             {"name", "mycluster-xinference"},
                                             {"uid", "its-uid"}}};
  auto applied = ApplyObject(*client_, kConfigMaps, desired, nullptr);

  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_EQ((*applied)["data"]["a"], "2");
  EXPECT_FALSE((*applied)["metadata"].contains("ownerReferences") &&
               !(*applied)["metadata"]["ownerReferences"].empty());
}

}  // namespace
}  // namespace xblocks::controllers
