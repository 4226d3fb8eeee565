// The issue-free controllers of embedded mode, run pass by pass on the calling thread.
#include "apiserver/object_meta.h"
#include "apiserver_test_support.h"
#include "client/local_client.h"
#include "controllers/definitions_controller.h"
#include "controllers/garbage_collector.h"
#include "controllers/namespace_controller.h"

namespace xblocks::testing {
namespace {

using apiserver::DeleteOptions;
using apiserver::Propagation;

class ControllersTest : public RegistryFixture {
 protected:
  // Runs every controller until nothing changes, at most 10 passes.
  void Converge() {
    controllers::GarbageCollector gc(*registry_);
    controllers::NamespaceController namespaces(*registry_);
    client::LocalClient client(*registry_, "test");
    controllers::DefinitionsController definitions(client);
    for (int pass = 0; pass < 10; ++pass) {
      const int64_t before = store_->CurrentRevision();
      ASSERT_TRUE(gc.Sync().ok());
      ASSERT_TRUE(namespaces.Sync().ok());
      ASSERT_TRUE(definitions.Sync().ok());
      if (store_->CurrentRevision() == before) return;
    }
  }

  Json Owned(const std::string& name, const Json& owner) {
    Json object = ConfigMap(name);
    object["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                              {"kind", "ConfigMap"},
                                              {"name", apiserver::Name(owner)},
                                              {"uid", apiserver::Uid(owner)}}};
    return object;
  }

  bool Exists(const std::string& name) { return registry_->Get(Type("", "configmaps"), "demo", name).ok(); }
};

TEST_F(ControllersTest, BackgroundDeletionCollectsDependent) {
  auto owner = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("owner"), {});
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", Owned("child", owner->object), {}).ok());
  ASSERT_TRUE(registry_->Delete(Type("", "configmaps"), "demo", "owner", {}).ok());
  Converge();
  EXPECT_FALSE(Exists("child"));
}

TEST_F(ControllersTest, OrphanDeletionKeepsDependent) {
  auto owner = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("owner"), {});
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", Owned("child", owner->object), {}).ok());
  DeleteOptions options;
  options.propagation = Propagation::kOrphan;
  ASSERT_TRUE(registry_->Delete(Type("", "configmaps"), "demo", "owner", options).ok());
  Converge();
  EXPECT_FALSE(Exists("owner"));
  auto child = registry_->Get(Type("", "configmaps"), "demo", "child");
  ASSERT_TRUE(child.ok());
  EXPECT_TRUE((*child)["metadata"]["ownerReferences"].empty());
}

TEST_F(ControllersTest, ForegroundDeletionRemovesDependentFirst) {
  auto owner = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("owner"), {});
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", Owned("child", owner->object), {}).ok());
  DeleteOptions options;
  options.propagation = Propagation::kForeground;
  ASSERT_TRUE(registry_->Delete(Type("", "configmaps"), "demo", "owner", options).ok());
  // The owner outlives its dependent at every step.
  controllers::GarbageCollector gc(*registry_);
  for (int pass = 0; pass < 10 && Exists("owner"); ++pass) {
    ASSERT_TRUE(gc.Sync().ok());
    EXPECT_FALSE(!Exists("owner") && Exists("child")) << "pass " << pass;
  }
  EXPECT_FALSE(Exists("child"));
  EXPECT_FALSE(Exists("owner"));
}

TEST_F(ControllersTest, DependentWithLiveOwnerSurvives) {
  auto owner = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("owner"), {});
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", Owned("child", owner->object), {}).ok());
  Converge();
  EXPECT_TRUE(Exists("child"));
}

TEST_F(ControllersTest, NamespaceDeletionRemovesContent) {
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {}).ok());
  ASSERT_TRUE(registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", Cluster("c1"), {}).ok());
  ASSERT_TRUE(registry_->Delete(Type("", "namespaces"), "", "demo", {}).ok());
  Converge();
  EXPECT_FALSE(Exists("cm"));
  EXPECT_FALSE(registry_->Get(Type("apps.kubeblocks.io", "clusters"), "demo", "c1").ok());
  EXPECT_FALSE(registry_->Get(Type("", "namespaces"), "", "demo").ok());
}

TEST_F(ControllersTest, NamespaceWaitsForFinalizedContent) {
  Json held = ConfigMap("held");
  held["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", held, {}).ok());
  ASSERT_TRUE(registry_->Delete(Type("", "namespaces"), "", "demo", {}).ok());
  Converge();
  EXPECT_TRUE(registry_->Get(Type("", "namespaces"), "", "demo").ok());
  ASSERT_TRUE(registry_->Patch(Type("", "configmaps"), "demo", "held", apiserver::PatchType::kMerge,
                               {{"metadata", {{"finalizers", nullptr}}}}, {})
                  .ok());
  Converge();
  EXPECT_FALSE(registry_->Get(Type("", "namespaces"), "", "demo").ok());
}

Json Definition() {
  return {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
          {"kind", "ClusterDefinition"},
          {"metadata", {{"name", "xinference"}}},
          {"spec", {{"componentDefs", {{{"name", "xinference"}, {"workloadType", "Stateful"}}}}}}};
}

Json Version(const std::string& name, const std::string& component) {
  return {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
          {"kind", "ClusterVersion"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"clusterDefinitionRef", "xinference"},
            {"componentVersions",
             {{{"componentDefRef", component},
               {"versionsContext", {{"containers", {{{"name", "xinference"}, {"image", "x:1"}}}}}}}}}}}};
}

TEST_F(ControllersTest, DefinitionsBecomeAvailable) {
  const auto& cds = Type("apps.kubeblocks.io", "clusterdefinitions");
  const auto& cvs = Type("apps.kubeblocks.io", "clusterversions");
  ASSERT_TRUE(registry_->Create(cds, "", Definition(), {}).ok());
  ASSERT_TRUE(registry_->Create(cvs, "", Version("v1", "xinference"), {}).ok());
  Converge();
  auto cd = registry_->Get(cds, "", "xinference");
  ASSERT_TRUE(cd.ok());
  EXPECT_EQ((*cd)["status"]["phase"], "Available");
  EXPECT_TRUE(apiserver::HasFinalizer(*cd, "clusterdefinition.kubeblocks.io/finalizer"));
  auto cv = registry_->Get(cvs, "", "v1");
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ((*cv)["status"]["phase"], "Available");
  EXPECT_EQ((*cv)["metadata"]["labels"]["clusterdefinition.kubeblocks.io/name"], "xinference");
}

// The server runs one pass before it serves, so the installed definitions are Available by the
// time the first Cluster can arrive.
TEST_F(ControllersTest, DefinitionsAvailableAfterOnePass) {
  const auto& cds = Type("apps.kubeblocks.io", "clusterdefinitions");
  const auto& cvs = Type("apps.kubeblocks.io", "clusterversions");
  ASSERT_TRUE(registry_->Create(cds, "", Definition(), {}).ok());
  ASSERT_TRUE(registry_->Create(cvs, "", Version("v1", "xinference"), {}).ok());
  client::LocalClient client(*registry_, "test");
  controllers::DefinitionsController definitions(client);
  ASSERT_TRUE(definitions.Sync().ok());
  auto cd = registry_->Get(cds, "", "xinference");
  ASSERT_TRUE(cd.ok());
  EXPECT_EQ((*cd)["status"]["phase"], "Available");
  auto cv = registry_->Get(cvs, "", "v1");
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ((*cv)["status"]["phase"], "Available");
}

TEST_F(ControllersTest, VersionWithUnknownComponentIsUnavailable) {
  ASSERT_TRUE(registry_->Create(Type("apps.kubeblocks.io", "clusterdefinitions"), "", Definition(), {}).ok());
  ASSERT_TRUE(registry_->Create(Type("apps.kubeblocks.io", "clusterversions"), "", Version("bad", "nope"), {}).ok());
  Converge();
  auto cv = registry_->Get(Type("apps.kubeblocks.io", "clusterversions"), "", "bad");
  ASSERT_TRUE(cv.ok());
  EXPECT_EQ((*cv)["status"]["phase"], "Unavailable");
  EXPECT_NE((*cv)["status"]["message"].get<std::string>().find("[nope]"), std::string::npos);
}

TEST_F(ControllersTest, DefinitionDeletionWaitsForClusters) {
  const auto& cds = Type("apps.kubeblocks.io", "clusterdefinitions");
  ASSERT_TRUE(registry_->Create(cds, "", Definition(), {}).ok());
  Converge();
  Json cluster = Cluster("c1");
  cluster["metadata"]["labels"] = {{"clusterdefinition.kubeblocks.io/name", "xinference"}};
  ASSERT_TRUE(registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", cluster, {}).ok());
  ASSERT_TRUE(registry_->Delete(cds, "", "xinference", {}).ok());
  Converge();
  EXPECT_TRUE(registry_->Get(cds, "", "xinference").ok());
  ASSERT_TRUE(registry_->Delete(Type("apps.kubeblocks.io", "clusters"), "demo", "c1", {}).ok());
  Converge();
  EXPECT_FALSE(registry_->Get(cds, "", "xinference").ok());
}

}  // namespace
}  // namespace xblocks::testing
