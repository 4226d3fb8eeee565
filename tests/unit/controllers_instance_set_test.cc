// The InstanceSet reconciler over a real registry, informers and reconcile loop. The test plays
// the kubelet: it marks pods Ready when it chooses, so ordering is observable.
#include <algorithm>
#include <chrono>
#include <thread>

#include "apiserver/object_meta.h"
#include "apiserver_test_support.h"
#include "client/local_client.h"
#include "controllers/component_objects.h"
#include "controllers/instance_set_controller.h"
#include "controllers/kubeblocks_names.h"
#include "controllers/reconcile_controller.h"

namespace xblocks::testing {
namespace {

using client::resources::kInstanceSets;
using client::resources::kPersistentVolumeClaims;
using client::resources::kPods;
using controllers::Informer;
using controllers::InstanceSetReconciler;
using controllers::ReconcileController;

class InstanceSetTest : public RegistryFixture {
 protected:
  void SetUp() override {
    RegistryFixture::SetUp();
    client_ = std::make_unique<client::LocalClient>(*registry_, "test");
    instance_sets_ = std::make_unique<Informer>(*client_, kInstanceSets);
    pods_ = std::make_unique<Informer>(*client_, kPods);
    reconciler_ = std::make_unique<InstanceSetReconciler>(*client_, *instance_sets_, *pods_);
    controller_ = std::make_unique<ReconcileController>(*reconciler_, system_clock_);
    controller_->Watches(*instance_sets_);
    controller_->Watches(*pods_, controllers::OwnerMapper("InstanceSet"));
    instance_sets_->Start();
    pods_->Start();
    ASSERT_TRUE(controller_->Start().ok());
  }

  void TearDown() override {
    controller_->Stop();
    instance_sets_->Stop();
    pods_->Stop();
    RegistryFixture::TearDown();
  }

  Json InstanceSet(int replicas, const std::string& image = "x:1") {
    Json its = {{"apiVersion", "workloads.kubeblocks.io/v1alpha1"},
                {"kind", "InstanceSet"},
                {"metadata", {{"name", "c-x"}, {"namespace", "demo"}}},
                {"spec",
                 {{"replicas", replicas},
                  {"serviceName", "c-x-headless"},
                  {"selector", {{"matchLabels", {{controllers::kb::kWorkloadInstanceLabel, "c-x"}}}}},
                  {"template",
                   {{"metadata", {{"labels", {{controllers::kb::kWorkloadInstanceLabel, "c-x"}}}}},
                    {"spec", {{"containers", {{{"name", "main"}, {"image", image}}}}}}}}}}};
    return its;
  }

  std::vector<std::string> PodNames() {
    std::vector<std::string> names;
    auto listed = client_->List(kPods, "demo", {});
    if (!listed.ok()) return names;
    for (const auto& pod : listed->items) names.push_back(apiserver::Name(pod));
    return names;
  }

  // An InstanceSet whose pods each get a PVC from the volume claim template `data`.
  Json InstanceSetWithClaims(int replicas) {
    Json its = InstanceSet(replicas);
    its["spec"]["volumeClaimTemplates"] = {
        {{"metadata", {{"name", "data"}}},
         {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}}};
    return its;
  }

  Json Claim(const std::string& name) {
    auto claim = client_->Get(kPersistentVolumeClaims, "demo", name);
    return claim.ok() ? *claim : Json();
  }

  Json Pod(const std::string& name) {
    auto pod = client_->Get(kPods, "demo", name);
    return pod.ok() ? *pod : Json();
  }

  void MarkReady(const std::string& name) {
    auto patched = client_->PatchStatus(
        kPods, "demo", name,
        {{"status", {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}});
    ASSERT_TRUE(patched.ok()) << patched.status().message();
  }

  // Polls `condition` for up to 10 s.
  template <typename F>
  bool Eventually(F condition) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return condition();
  }

  SystemClock system_clock_;
  std::unique_ptr<client::LocalClient> client_;
  std::unique_ptr<Informer> instance_sets_;
  std::unique_ptr<Informer> pods_;
  std::unique_ptr<InstanceSetReconciler> reconciler_;
  std::unique_ptr<ReconcileController> controller_;
};

TEST_F(InstanceSetTest, CreatesPodsInOrder) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(3)).ok());
  ASSERT_TRUE(Eventually([&] { return PodNames().size() == 1; }));
  // The next ordinal waits for the previous pod to be Ready.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(PodNames(), std::vector<std::string>{"c-x-0"});
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] { return PodNames().size() == 2; }));
  MarkReady("c-x-1");
  ASSERT_TRUE(Eventually([&] { return PodNames().size() == 3; }));
  EXPECT_EQ(PodNames(), (std::vector<std::string>{"c-x-0", "c-x-1", "c-x-2"}));
}

TEST_F(InstanceSetTest, PodCarriesOwnerAndRevision) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(1)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  Json pod = Pod("c-x-0");
  auto its = client_->Get(kInstanceSets, "demo", "c-x");
  ASSERT_TRUE(its.ok());
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["uid"], apiserver::Uid(*its));
  EXPECT_EQ(pod["metadata"]["labels"][controllers::kb::kRevisionHashLabel],
            controllers::TemplateHash((*its)["spec"]["template"]));
  EXPECT_EQ(pod["spec"]["hostname"], "c-x-0");
}

TEST_F(InstanceSetTest, ScalesInHighestFirst) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(2)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-1").is_null(); }));
  MarkReady("c-x-1");
  ASSERT_TRUE(client_->Patch(kInstanceSets, "demo", "c-x", client::PatchType::kMerge, {{"spec", {{"replicas", 1}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return PodNames().size() == 1; }));
  EXPECT_EQ(PodNames(), std::vector<std::string>{"c-x-0"});
}

TEST_F(InstanceSetTest, StopAndStartKeepNames) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(1)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(client_->Patch(kInstanceSets, "demo", "c-x", client::PatchType::kMerge, {{"spec", {{"replicas", 0}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return PodNames().empty(); }));
  ASSERT_TRUE(client_->Patch(kInstanceSets, "demo", "c-x", client::PatchType::kMerge, {{"spec", {{"replicas", 1}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return PodNames() == std::vector<std::string>{"c-x-0"}; }));
}

TEST_F(InstanceSetTest, TemplateChangeRollsHighestFirst) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(2)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-1").is_null(); }));
  MarkReady("c-x-1");
  const std::string old_uid0 = apiserver::Uid(Pod("c-x-0"));
  const std::string old_uid1 = apiserver::Uid(Pod("c-x-1"));

  Json patch = {{"spec", {{"template", {{"spec", {{"containers", {{{"name", "main"}, {"image", "x:2"}}}}}}}}}}};
  ASSERT_TRUE(client_->Patch(kInstanceSets, "demo", "c-x", client::PatchType::kMerge, patch).ok());
  // Pod 1 is recreated first; pod 0 keeps running until pod 1 is Ready again.
  ASSERT_TRUE(Eventually([&] {
    Json pod = Pod("c-x-1");
    return !pod.is_null() && apiserver::Uid(pod) != old_uid1;
  }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(apiserver::Uid(Pod("c-x-0")), old_uid0);
  MarkReady("c-x-1");
  ASSERT_TRUE(Eventually([&] {
    Json pod = Pod("c-x-0");
    return !pod.is_null() && apiserver::Uid(pod) != old_uid0;
  }));
  EXPECT_EQ(Pod("c-x-0")["spec"]["containers"][0]["image"], "x:2");
}

// Regression: a crash-looping or evicted pod froze a rolling update, because every pod had to
// be Ready before any outdated one was replaced.
TEST_F(InstanceSetTest, OutdatedUnreadyPodIsReplacedFirst) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(2)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-1").is_null(); }));
  // Pod 0 breaks; pod 1 never became Ready.
  auto broken = client_->PatchStatus(kPods, "demo", "c-x-0",
                                     {{"status", {{"phase", "Failed"}, {"reason", "Evicted"},
                                                  {"conditions", {{{"type", "Ready"}, {"status", "False"}}}}}}});
  ASSERT_TRUE(broken.ok());
  const std::string old_uid0 = apiserver::Uid(Pod("c-x-0"));
  const std::string old_uid1 = apiserver::Uid(Pod("c-x-1"));

  Json patch = {{"spec", {{"template", {{"spec", {{"containers", {{{"name", "main"}, {"image", "x:2"}}}}}}}}}}};
  ASSERT_TRUE(client_->Patch(kInstanceSets, "demo", "c-x", client::PatchType::kMerge, patch).ok());
  // Both are replaced without waiting for either to become Ready: pod 0 comes back first, as
  // a scale-out would create it, and pod 1 once pod 0 is Ready.
  ASSERT_TRUE(Eventually([&] {
    Json pod0 = Pod("c-x-0");
    return !pod0.is_null() && apiserver::Uid(pod0) != old_uid0;
  })) << "the failed outdated pod 0 was not replaced while pod 1 was not Ready";
  EXPECT_EQ(Pod("c-x-0")["spec"]["containers"][0]["image"], "x:2");
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] {
    Json pod1 = Pod("c-x-1");
    return !pod1.is_null() && apiserver::Uid(pod1) != old_uid1;
  })) << "the unready outdated pod 1 was not replaced";
  EXPECT_EQ(Pod("c-x-1")["spec"]["containers"][0]["image"], "x:2");
}

TEST_F(InstanceSetTest, StatusCountsReadyPods) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSet(1)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] {
    auto its = client_->Get(kInstanceSets, "demo", "c-x");
    return its.ok() && (*its)["status"].value("readyReplicas", 0) == 1;
  }));
  auto its = client_->Get(kInstanceSets, "demo", "c-x");
  ASSERT_TRUE(its.ok());
  EXPECT_EQ((*its)["status"]["replicas"], 1);
  EXPECT_EQ((*its)["status"]["updatedReplicas"], 1);
  EXPECT_EQ((*its)["status"]["currentRevision"], (*its)["status"]["updateRevision"]);
}

TEST_F(InstanceSetTest, CreatesClaimForEachPod) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSetWithClaims(2)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-1").is_null(); }));
  auto its = client_->Get(kInstanceSets, "demo", "c-x");
  ASSERT_TRUE(its.ok());

  for (const std::string pod_name : {"c-x-0", "c-x-1"}) {
    const Json claim = Claim("data-" + pod_name);
    ASSERT_FALSE(claim.is_null()) << "no PVC for " << pod_name;
    EXPECT_EQ(claim["spec"]["resources"]["requests"]["storage"], "1Gi");
    EXPECT_EQ(claim["metadata"]["labels"][controllers::kb::kWorkloadInstanceLabel], "c-x");
    EXPECT_EQ(claim["metadata"]["labels"]["apps.kubeblocks.io/vct-name"], "data");
    EXPECT_EQ(claim["metadata"]["ownerReferences"][0]["uid"], apiserver::Uid(*its));
    const Json volumes = Pod(pod_name)["spec"]["volumes"];
    ASSERT_TRUE(volumes.is_array()) << Pod(pod_name).dump();
    const Json expected = {{"name", "data"}, {"persistentVolumeClaim", {{"claimName", "data-" + pod_name}}}};
    EXPECT_NE(std::find(volumes.begin(), volumes.end(), expected), volumes.end()) << volumes.dump();
  }
}

TEST_F(InstanceSetTest, ScaleInKeepsClaims) {
  ASSERT_TRUE(client_->Create(kInstanceSets, InstanceSetWithClaims(2)).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  MarkReady("c-x-0");
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-1").is_null(); }));
  MarkReady("c-x-1");
  ASSERT_TRUE(Eventually([&] { return !Claim("data-c-x-1").is_null(); }));
  const std::string claim_uid = apiserver::Uid(Claim("data-c-x-1"));

  ASSERT_TRUE(client_->Patch(kInstanceSets, "demo", "c-x", client::PatchType::kMerge, {{"spec", {{"replicas", 1}}}}).ok());
  ASSERT_TRUE(Eventually([&] { return PodNames().size() == 1; }));
  // As with a StatefulSet, the data of a removed replica stays for a later scale out.
  EXPECT_EQ(apiserver::Uid(Claim("data-c-x-1")), claim_uid);
}

TEST_F(InstanceSetTest, DeletionRemovesPodsThenFinalizers) {
  Json its = InstanceSet(1);
  its["metadata"]["finalizers"] = {controllers::kb::kInstanceSetFinalizer};
  ASSERT_TRUE(client_->Create(kInstanceSets, its).ok());
  ASSERT_TRUE(Eventually([&] { return !Pod("c-x-0").is_null(); }));
  ASSERT_TRUE(client_->Delete(kInstanceSets, "demo", "c-x", {}).ok());
  ASSERT_TRUE(Eventually([&] { return !client_->Get(kInstanceSets, "demo", "c-x").ok(); }));
  EXPECT_TRUE(PodNames().empty());
}

}  // namespace
}  // namespace xblocks::testing
