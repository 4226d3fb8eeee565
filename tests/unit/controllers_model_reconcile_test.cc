// ModelReconciler against the registry, with a fake Xinference transport: a launch that
// Xinference rejects is not sent again to the same pod, a replaced pod gets a new launch, and a
// loaded model reports Ready.
#include <atomic>
#include <mutex>

#include <gtest/gtest.h>

#include "api/json_fields.h"
#include "controllers/model_controller.h"
#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

using controllers::HttpReply;
using controllers::ReplicaEndpoint;

// A replica that lists the instances it was requested to load, and rejects launches while `reject`
// holds a detail text.
class FakeReplica {
 public:
  controllers::HttpTransport Transport() {
    return [this](const ReplicaEndpoint&, const std::string& method, const std::string& target,
                  const std::optional<Json>& body, std::chrono::milliseconds) -> Result<HttpReply> {
      std::lock_guard lock(mu_);
      if (method == "GET" && target.starts_with("/v1/models/instances")) return HttpReply{200, instances_.dump()};
      if (method == "POST" && target.starts_with("/v1/models")) {
        ++launches_;
        if (crash_) {
          instances_ = Json::array();
          return Status(StatusCode::kUnavailable, "POST /v1/models?wait_ready=true: end of stream");
        }
        if (!reject_.empty()) {
          instances_ = Json::array({Instance(*body, "ERROR")});
          return HttpReply{400, Json({{"detail", reject_}}).dump()};
        }
        instances_ = Json::array({Instance(*body, "READY")});
        return HttpReply{200, Json({{"model_uid", (*body)["model_uid"]}}).dump()};
      }
      return HttpReply{404, R"({"detail":"Not Found"})"};
    };
  }

  // The next launches get no reply, as when the replica is killed while it loads.
  void Crash(bool crash) {
    std::lock_guard lock(mu_);
    crash_ = crash;
  }
  void Reject(std::string detail) {
    std::lock_guard lock(mu_);
    reject_ = std::move(detail);
  }
  // A restarted replica lists nothing.
  void Restart() {
    std::lock_guard lock(mu_);
    instances_ = Json::array();
  }
  int launches() {
    std::lock_guard lock(mu_);
    return launches_;
  }

 private:
  static Json Instance(const Json& body, const std::string& status) {
    return {{"model_name", body["model_name"]}, {"model_uid", body["model_uid"]}, {"status", status}};
  }

  std::mutex mu_;
  Json instances_ = Json::array();
  std::string reject_;
  bool crash_ = false;
  int launches_ = 0;
};

class ModelReconcileTest : public ClientFixture {
 protected:
  void SetUp() override {
    ClientFixture::SetUp();
    CreateCluster();
    pod_uid_ = CreateReadyPod();
    auto created = client_->Create(client::resources::kModels,
                                   {{"apiVersion", "xblocks.io/v1alpha1"},
                                    {"kind", "Model"},
                                    {"metadata", {{"name", "bge"}, {"namespace", "demo"}}},
                                    {"spec",
                                     {{"clusterName", "mycluster"},
                                      {"modelName", "bge-small-en-v1.5"},
                                      {"modelType", "embedding"}}}});
    ASSERT_TRUE(created.ok()) << created.status().message();
    models_ = std::make_unique<controllers::Informer>(*client_, client::resources::kModels);
    clusters_ = std::make_unique<controllers::Informer>(*client_, client::resources::kClusters);
    pods_ = std::make_unique<controllers::Informer>(*client_, client::resources::kPods);
    for (auto* informer : {models_.get(), clusters_.get(), pods_.get()}) {
      informer->Start();
      ASSERT_TRUE(informer->WaitForSync(std::chrono::seconds(10)));
    }
    controllers::ModelReconcilerOptions options;
    options.transport = replica_.Transport();
    reconciler_ = std::make_unique<controllers::ModelReconciler>(*client_, clock_, *models_, *clusters_, *pods_,
                                                                 options);
  }

  void TearDown() override {
    reconciler_.reset();
    for (auto* informer : {models_.get(), clusters_.get(), pods_.get()}) informer->Stop();
    ClientFixture::TearDown();
  }

  void CreateCluster() {
    auto created = client_->Create(
        client::resources::kClusters,
        {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
         {"kind", "Cluster"},
         {"metadata", {{"name", "mycluster"}, {"namespace", "demo"}}},
         {"spec",
          {{"clusterDefinitionRef", "xinference"},
           {"terminationPolicy", "Delete"},
           {"componentSpecs", {{{"name", "xinference"}, {"componentDefRef", "xinference"}, {"replicas", 1}}}}}}});
    ASSERT_TRUE(created.ok()) << created.status().message();
  }

  // Creates mycluster-xinference-0, Ready at 127.0.0.9, and returns its uid.
  std::string CreateReadyPod() {
    auto created = client_->Create(
        client::resources::kPods,
        {{"apiVersion", "v1"},
         {"kind", "Pod"},
         {"metadata",
          {{"name", "mycluster-xinference-0"},
           {"namespace", "demo"},
           {"labels", {{"app.kubernetes.io/instance", "mycluster"}}}}},
         {"spec", {{"containers", {{{"name", "xinference"}, {"image", "xprobe/xinference:v0.11.0-cpu"}}}}}}});
    EXPECT_TRUE(created.ok()) << created.status().message();
    if (!created.ok()) return "";
    Json pod = *created;
    pod["status"] = {{"phase", "Running"},
                     {"podIP", "127.0.0.9"},
                     // Containers ready, and the pod held out of Ready by the models-ready
                     // gate: the controller must launch without waiting for Ready.
                     {"conditions",
                      {{{"type", "ContainersReady"}, {"status", "True"}},
                       {{"type", "Ready"}, {"status", "False"}, {"reason", "ReadinessGatesNotReady"}}}}};
    auto updated = client_->UpdateStatus(client::resources::kPods, pod);
    EXPECT_TRUE(updated.ok()) << updated.status().message();
    return pod["metadata"]["uid"].get<std::string>();
  }

  // Reconciles until the Model's phase is `phase` in the informer's cache.
  bool ReconcileUntil(const std::string& phase) {
    return Eventually([&] {
      controllers::ReconcileContext context("model", {"demo", "bge"}, "test");
      (void)reconciler_->Reconcile({"demo", "bge"}, context);
      auto model = models_->Get("demo", "bge");
      return model && model->value("status", Json::object()).value("phase", "") == phase;
    });
  }

  FakeReplica replica_;
  std::string pod_uid_;
  std::unique_ptr<controllers::Informer> models_;
  std::unique_ptr<controllers::Informer> clusters_;
  std::unique_ptr<controllers::Informer> pods_;
  std::unique_ptr<controllers::ModelReconciler> reconciler_;
};

TEST_F(ModelReconcileTest, LoadedModelIsReady) {
  ASSERT_TRUE(ReconcileUntil("Ready"));
  auto model = models_->Get("demo", "bge");
  EXPECT_EQ((*model)["status"]["ready"], "1/1");
  EXPECT_EQ((*model)["status"]["endpoint"], "http://127.0.0.9:9997/v1");
  EXPECT_EQ((*model)["status"]["replicas"][0]["podUID"], pod_uid_);
  EXPECT_EQ(replica_.launches(), 1);
}

TEST_F(ModelReconcileTest, RejectedLaunchIsNotRepeatedOnSamePod) {
  replica_.Reject("Embedding model bge-small-en-v1.5 not found, availablemodel list: dict_keys([])");
  ASSERT_TRUE(ReconcileUntil("Failed"));
  for (int i = 0; i < 5; ++i) {
    controllers::ReconcileContext context("model", {"demo", "bge"}, "test");
    (void)reconciler_->Reconcile({"demo", "bge"}, context);
  }
  EXPECT_EQ(replica_.launches(), 1);
  auto model = models_->Get("demo", "bge");
  EXPECT_EQ((*model)["status"]["conditions"][0]["reason"], "UnknownModel") << (*model)["status"].dump();

  // A replaced pod is a new chance, and this time Xinference loads the model.
  replica_.Reject("");
  replica_.Restart();
  ASSERT_TRUE(client_->Delete(client::resources::kPods, "demo", "mycluster-xinference-0", {.grace_period_seconds = 0})
                  .ok());
  ASSERT_TRUE(Eventually([&] { return !pods_->Get("demo", "mycluster-xinference-0"); }));
  const std::string replaced = CreateReadyPod();
  ASSERT_NE(replaced, pod_uid_);
  ASSERT_TRUE(Eventually([&] {
    auto pod = pods_->Get("demo", "mycluster-xinference-0");
    return pod && (*pod)["metadata"]["uid"] == replaced && pod->contains("status");
  }));
  ASSERT_TRUE(ReconcileUntil("Ready"));
  EXPECT_EQ(replica_.launches(), 2);
}

TEST_F(ModelReconcileTest, LaunchThatOomKillsReplicaFails) {
  replica_.Crash(true);
  ASSERT_TRUE(ReconcileUntil("Launching"));
  ASSERT_TRUE(Eventually([&] { return replica_.launches() == 1; }));
  // The kubelet's view after the kill: one restart, ended OOMKilled, Ready again.
  auto pod = client_->Get(client::resources::kPods, "demo", "mycluster-xinference-0");
  ASSERT_TRUE(pod.ok());
  (*pod)["status"]["containerStatuses"] = {{{"name", "xinference"},
                                            {"restartCount", 1},
                                            {"lastState", {{"terminated", {{"reason", "OOMKilled"}, {"exitCode", 137}}}}}}};
  ASSERT_TRUE(client_->UpdateStatus(client::resources::kPods, *pod).ok());
  ASSERT_TRUE(Eventually([&] {
    auto cached = pods_->Get("demo", "mycluster-xinference-0");
    return cached && api::IntAt((*cached)["status"]["containerStatuses"][0], "restartCount", 0) == 1;
  }));
  ASSERT_TRUE(ReconcileUntil("Failed"));
  auto model = models_->Get("demo", "bge");
  EXPECT_EQ((*model)["status"]["conditions"][0]["reason"], "OutOfMemory");
  for (int i = 0; i < 5; ++i) {
    controllers::ReconcileContext context("model", {"demo", "bge"}, "test");
    (void)reconciler_->Reconcile({"demo", "bge"}, context);
  }
  EXPECT_EQ(replica_.launches(), 1);
}

TEST_F(ModelReconcileTest, ReadyModelHasNoMessage) {
  replica_.Crash(true);
  ASSERT_TRUE(ReconcileUntil("Launching"));
  ASSERT_TRUE(Eventually([&] { return replica_.launches() == 1; }));
  replica_.Crash(false);
  ASSERT_TRUE(ReconcileUntil("Ready"));
  auto model = models_->Get("demo", "bge");
  EXPECT_FALSE((*model)["status"].contains("message")) << (*model)["status"].dump();
}

TEST_F(ModelReconcileTest, RestartedReplicaGetsModelAgain) {
  ASSERT_TRUE(ReconcileUntil("Ready"));
  replica_.Restart();
  ASSERT_TRUE(ReconcileUntil("Launching") || ReconcileUntil("Ready"));
  ASSERT_TRUE(ReconcileUntil("Ready"));
  EXPECT_EQ(replica_.launches(), 2);
}

}  // namespace
}  // namespace xblocks::testing
