// ComponentReconciler over a real registry, with the embedded Xinference ClusterDefinition and
// ClusterVersion: the objects it applies next to the InstanceSet.
#include <map>

#include "api/yaml.h"
#include "apiserver/object_meta.h"
#include "common/embedded_files.h"
#include "controllers/component_controller.h"
#include "controllers/informer.h"
#include "controllers/kubeblocks_names.h"
#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

namespace res = client::resources;
namespace kb = controllers::kb;
using controllers::Informer;

Json Embedded(std::string_view path) {
  for (const auto& file : EmbeddedFiles()) {
    if (file.path == path) return *api::ParseYamlOrJson(file.content);
  }
  ADD_FAILURE() << "no embedded file " << path;
  return Json();
}

class ComponentReconcile : public ClientFixture {
 protected:
  void SetUp() override {
    ClientFixture::SetUp();
    for (const auto& [resource, path] : {std::pair{&res::kClusterDefinitions, "addons/xinference/clusterdefinition.yaml"},
                                         std::pair{&res::kClusterVersions, "addons/xinference/clusterversion-0.11.0-cpu.yaml"}}) {
      auto created = client_->Create(*resource, Embedded(path));
      ASSERT_TRUE(created.ok()) << created.status().message();
    }
    components_ = std::make_unique<Informer>(*client_, res::kComponents);
    instance_sets_ = std::make_unique<Informer>(*client_, res::kInstanceSets);
    pods_ = std::make_unique<Informer>(*client_, res::kPods);
    reconciler_ = std::make_unique<controllers::ComponentReconciler>(*client_, *components_, *instance_sets_, *pods_);
    for (Informer* informer : {components_.get(), instance_sets_.get(), pods_.get()}) informer->Start();
  }

  void TearDown() override {
    for (Informer* informer : {components_.get(), instance_sets_.get(), pods_.get()}) informer->Stop();
    ClientFixture::TearDown();
  }

  // Creates the tutorial's cluster `name` and its component, whose serviceAccountName is
  // kb-xinference-cluster, and reconciles the component once the informer has it.
  void CreateAndReconcile(const std::string& name) {
    const Json component_spec = {{"name", "xinference"},
                                 {"componentDefRef", "xinference"},
                                 {"serviceAccountName", "kb-xinference-cluster"},
                                 {"replicas", 1}};
    Json cluster = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                    {"kind", "Cluster"},
                    {"metadata", {{"name", name}, {"namespace", "demo"}}},
                    {"spec",
                     {{"clusterDefinitionRef", "xinference"},
                      {"clusterVersionRef", "xinference-0.11.0-cpu"},
                      {"terminationPolicy", "Delete"},
                      {"componentSpecs", {component_spec}}}}};
    auto created_cluster = client_->Create(res::kClusters, cluster);
    ASSERT_TRUE(created_cluster.ok()) << created_cluster.status().message();

    Json spec = component_spec;
    spec.erase("name");
    Json component = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
                      {"kind", "Component"},
                      {"metadata",
                       {{"name", kb::ComponentName(name, "xinference")},
                        {"namespace", "demo"},
                        {"labels", {{kb::kInstanceLabel, name}, {kb::kComponentNameLabel, "xinference"}}},
                        {"finalizers", {kb::kComponentFinalizer}}}},
                      {"spec", spec}};
    auto created = client_->Create(res::kComponents, component);
    ASSERT_TRUE(created.ok()) << created.status().message();
    ASSERT_TRUE(Eventually([&] { return components_->Get("demo", kb::ComponentName(name, "xinference")).has_value(); }));

    const controllers::Request request{"demo", kb::ComponentName(name, "xinference")};
    const auto result = reconciler_->Reconcile(request, controllers::ReconcileContext("component", request, "test"));
    ASSERT_TRUE(result.error().ok()) << result.error().message();
    component_uids_[name] = apiserver::Uid(*created);
  }

  Json Get(const client::Resource& resource, const std::string& name) {
    auto object = client_->Get(resource, "demo", name);
    EXPECT_TRUE(object.ok()) << name << ": " << object.status().message();
    return object.ok() ? *object : Json();
  }

  std::unique_ptr<Informer> components_;
  std::unique_ptr<Informer> instance_sets_;
  std::unique_ptr<Informer> pods_;
  std::unique_ptr<controllers::ComponentReconciler> reconciler_;
  std::map<std::string, std::string> component_uids_;
};

TEST_F(ComponentReconcile, CreatesNamedServiceAccountAndBinding) {
  CreateAndReconcile("first");
  for (const client::Resource* resource : {&res::kServiceAccounts, &res::kRoleBindings}) {
    const Json object = Get(*resource, "kb-xinference-cluster");
    EXPECT_EQ(object["metadata"]["labels"][kb::kInstanceLabel], "first") << resource->plural;
    EXPECT_EQ(object["metadata"]["ownerReferences"][0]["uid"], component_uids_["first"]) << resource->plural;
  }
  EXPECT_EQ(Get(res::kRoleBindings, "kb-xinference-cluster")["roleRef"]["name"], kb::kClusterPodRole);
}

// Two tutorial clusters in one namespace name the same ServiceAccount. As KubeBlocks does, the
// second uses the existing one and does not take it over, so the two components never write it
// in turn.
TEST_F(ComponentReconcile, ExistingServiceAccountIsNotTakenOver) {
  CreateAndReconcile("first");
  const Json account = Get(res::kServiceAccounts, "kb-xinference-cluster");
  const Json binding = Get(res::kRoleBindings, "kb-xinference-cluster");

  CreateAndReconcile("second");
  EXPECT_EQ(Get(res::kServiceAccounts, "kb-xinference-cluster"), account);
  EXPECT_EQ(Get(res::kRoleBindings, "kb-xinference-cluster"), binding);
  // The second component still gets its workload.
  EXPECT_TRUE(client_->Get(res::kInstanceSets, "demo", kb::ComponentName("second", "xinference")).ok());
}

}  // namespace
}  // namespace xblocks::testing
