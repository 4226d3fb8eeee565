// Deletion of a Cluster under its terminationPolicy, reconciled by ClusterReconciler over a real
// registry. The test builds the objects a running cluster owns by hand, so it can check what the
// reconciler does to each before the component and InstanceSet controllers act.
#include <set>

#include "apiserver/object_meta.h"
#include "controllers/cluster_controller.h"
#include "controllers/informer.h"
#include "controllers/kubeblocks_names.h"
#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

namespace res = client::resources;
namespace kb = controllers::kb;
using controllers::Informer;

Json OwnerReference(const Json& owner) {
  return {{"apiVersion", owner["apiVersion"]}, {"kind", owner["kind"]}, {"name", owner["metadata"]["name"]},
          {"uid", owner["metadata"]["uid"]},   {"controller", true},    {"blockOwnerDeletion", true}};
}

Json Metadata(const std::string& name, const Json& owner) {
  Json metadata = {{"name", name},
                   {"namespace", "demo"},
                   {"labels", {{kb::kInstanceLabel, "mycluster"}, {kb::kComponentNameLabel, "xinference"}}}};
  if (!owner.is_null()) metadata["ownerReferences"] = {OwnerReference(owner)};
  return metadata;
}

class ClusterTermination : public ClientFixture {
 protected:
  void SetUp() override {
    ClientFixture::SetUp();
    clusters_ = std::make_unique<Informer>(*client_, res::kClusters);
    components_ = std::make_unique<Informer>(*client_, res::kComponents);
    reconciler_ = std::make_unique<controllers::ClusterReconciler>(*client_, *clusters_, *components_);
  }

  void TearDown() override {
    clusters_->Stop();
    components_->Stop();
    ClientFixture::TearDown();
  }

  Json Create(const client::Resource& resource, const Json& object) {
    auto created = client_->Create(resource, object);
    EXPECT_TRUE(created.ok()) << created.status().message();
    return created.ok() ? *created : Json();
  }

  // A running cluster with the given policy and the objects its controllers create: the
  // Component, its InstanceSet, the two environment ConfigMaps, a PVC and the connection Secret.
  void CreateRunningCluster(const std::string& policy) {
    Json cluster = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                    {"kind", "Cluster"},
                    {"metadata", {{"name", "mycluster"}, {"namespace", "demo"}, {"finalizers", {kb::kClusterFinalizer}}}},
                    {"spec",
                     {{"clusterDefinitionRef", "xinference"},
                      {"terminationPolicy", policy},
                      {"componentSpecs", {{{"name", "xinference"}, {"componentDefRef", "xinference"}}}}}}};
    cluster_ = Create(res::kClusters, cluster);

    Json component = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                      {"kind", "Component"},
                      {"metadata", Metadata("mycluster-xinference", cluster_)},
                      {"spec", {{"componentDefRef", "xinference"}}}};
    component["metadata"]["finalizers"] = {kb::kClusterFinalizer, kb::kComponentFinalizer};
    component_ = Create(res::kComponents, component);

    Json its = {{"apiVersion", "workloads.kubeblocks.io/v1alpha1"},
                {"kind", "InstanceSet"},
                {"metadata", Metadata("mycluster-xinference", component_)},
                {"spec", {{"replicas", 1}, {"template", {{"spec", {{"containers", Json::array()}}}}}}}};
    its["metadata"]["finalizers"] = {kb::kComponentFinalizer, kb::kInstanceSetFinalizer};
    its_ = Create(res::kInstanceSets, its);

    Create(res::kConfigMaps, {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                              {"metadata", Metadata("mycluster-xinference-env", component_)}});
    Create(res::kConfigMaps, {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                              {"metadata", Metadata("mycluster-xinference-rsm-env", its_)}});
    Create(res::kPersistentVolumeClaims,
           {{"apiVersion", "v1"},
            {"kind", "PersistentVolumeClaim"},
            {"metadata", Metadata("data-mycluster-xinference-0", its_)},
            {"spec", {{"accessModes", {"ReadWriteOnce"}}, {"resources", {{"requests", {{"storage", "1Gi"}}}}}}}});
    Json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", Metadata("mycluster-conn-credential", cluster_)}};
    secret["metadata"]["finalizers"] = {kb::kClusterFinalizer};
    Create(res::kSecrets, secret);
  }

  // Deletes the cluster and reconciles it once the informers have seen the deletion.
  void DeleteAndReconcile() {
    ASSERT_TRUE(client_->Delete(res::kClusters, "demo", "mycluster", {}).ok());
    clusters_->Start();
    components_->Start();
    ASSERT_TRUE(Eventually([&] {
      auto cached = clusters_->Get("demo", "mycluster");
      return cached && apiserver::IsDeleting(*cached) && components_->Get("demo", "mycluster-xinference");
    }));
    const controllers::Request request{"demo", "mycluster"};
    reconciler_->Reconcile(request, controllers::ReconcileContext("cluster", request, "test"));
  }

  // The uids of the cluster, its Component and its InstanceSet: the objects deletion removes.
  std::set<std::string> RemovedUids() const {
    return {apiserver::Uid(cluster_), apiserver::Uid(component_), apiserver::Uid(its_)};
  }

  static Json Get(client::Client& client, const client::Resource& resource, const std::string& name) {
    auto object = client.Get(resource, "demo", name);
    EXPECT_TRUE(object.ok()) << name << ": " << object.status().message();
    return object.ok() ? *object : Json();
  }

  std::unique_ptr<Informer> clusters_;
  std::unique_ptr<Informer> components_;
  std::unique_ptr<controllers::ClusterReconciler> reconciler_;
  Json cluster_, component_, its_;
};

TEST_F(ClusterTermination, HaltReleasesKeptDataFromEveryOwner) {
  CreateRunningCluster("Halt");
  DeleteAndReconcile();

  const std::pair<const client::Resource*, std::string> kept[] = {
      {&res::kConfigMaps, "mycluster-xinference-env"},
      {&res::kConfigMaps, "mycluster-xinference-rsm-env"},
      {&res::kPersistentVolumeClaims, "data-mycluster-xinference-0"},
      {&res::kSecrets, "mycluster-conn-credential"},
  };
  const std::set<std::string> removed = RemovedUids();
  for (const auto& [resource, name] : kept) {
    const Json object = Get(*client_, *resource, name);
    // An owner reference to an object the deletion removes would let the garbage collector
    // delete what Halt keeps.
    for (const Json& ref : object["metadata"].value("ownerReferences", Json::array())) {
      EXPECT_EQ(removed.count(ref.value("uid", "")), 0u) << name << " is still owned by " << ref.dump();
    }
    EXPECT_FALSE(apiserver::HasFinalizer(object, kb::kClusterFinalizer)) << name;
    EXPECT_TRUE(object["metadata"]["annotations"].contains("apps.kubeblocks.io/last-applied-cluster")) << name;
    EXPECT_FALSE(apiserver::IsDeleting(object)) << name;
  }
  EXPECT_TRUE(apiserver::IsDeleting(Get(*client_, res::kComponents, "mycluster-xinference")));
}

TEST_F(ClusterTermination, DeleteRemovesData) {
  CreateRunningCluster("Delete");
  DeleteAndReconcile();

  for (const std::string name : {"mycluster-xinference-env", "mycluster-xinference-rsm-env"}) {
    EXPECT_EQ(client_->Get(res::kConfigMaps, "demo", name).status().code(), StatusCode::kNotFound) << name;
  }
  EXPECT_EQ(client_->Get(res::kPersistentVolumeClaims, "demo", "data-mycluster-xinference-0").status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(client_->Get(res::kSecrets, "demo", "mycluster-conn-credential").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(apiserver::IsDeleting(Get(*client_, res::kComponents, "mycluster-xinference")));
}

}  // namespace
}  // namespace xblocks::testing
