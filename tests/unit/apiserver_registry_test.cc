#include "apiserver/object_meta.h"
#include "apiserver_test_support.h"

namespace xblocks::testing {
namespace {

using apiserver::DeleteOptions;
using apiserver::FieldValidation;
using apiserver::PatchType;
using apiserver::Propagation;
using apiserver::Subresource;
using apiserver::WriteOptions;

using RegistryCreate = RegistryFixture;
using RegistryUpdate = RegistryFixture;
using RegistryPatch = RegistryFixture;
using RegistryDelete = RegistryFixture;

TEST_F(RegistryCreate, SetsServerOwnedMetadata) {
  auto created = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {});
  ASSERT_TRUE(created.ok()) << created.status().message();
  const Json& meta = created->object["metadata"];
  EXPECT_EQ(meta["namespace"], "demo");
  EXPECT_EQ(meta["generation"], 1);
  EXPECT_EQ(meta["creationTimestamp"], "2026-12-04T10:00:00Z");
  EXPECT_EQ(meta["uid"].get<std::string>().size(), 36u);
  EXPECT_FALSE(meta["resourceVersion"].get<std::string>().empty());
}

TEST_F(RegistryCreate, RejectsMissingNamespace) {
  auto created = registry_->Create(Type("", "configmaps"), "nope", ConfigMap("cm"), {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(created.status().message(), "namespaces \"nope\" not found");
}

TEST_F(RegistryCreate, RejectsDuplicateName) {
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {}).ok());
  auto again = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(again.status().message(), "configmaps \"cm\" already exists");
}

TEST_F(RegistryCreate, RejectsNamespaceMismatch) {
  Json object = ConfigMap("cm");
  object["metadata"]["namespace"] = "other";
  auto created = registry_->Create(Type("", "configmaps"), "demo", object, {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kBadRequest);
}

TEST_F(RegistryCreate, RejectsWrongApiVersion) {
  Json cluster = Cluster("c1");
  cluster["apiVersion"] = "apps.kubeblocks.io/v1";
  auto created = registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", cluster, {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kBadRequest);
  EXPECT_NE(created.status().message().find("apps.kubeblocks.io/v1alpha1"), std::string::npos);
}

TEST_F(RegistryCreate, StrictValidationRejectsUnknownField) {
  Json cluster = Cluster("c1");
  cluster["spec"]["foo"] = 1;
  auto created = registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", cluster, {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kBadRequest);
  EXPECT_EQ(created.status().message(), "strict decoding error: unknown field \"spec.foo\"");
  EXPECT_FALSE(registry_->Get(Type("apps.kubeblocks.io", "clusters"), "demo", "c1").ok());
}

TEST_F(RegistryCreate, WarnValidationPrunesAndWarns) {
  Json cluster = Cluster("c1");
  cluster["spec"]["foo"] = 1;
  auto created = registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", cluster,
                                   {.field_validation = FieldValidation::kWarn});
  ASSERT_TRUE(created.ok()) << created.status().message();
  ASSERT_EQ(created->warnings.size(), 1u);
  EXPECT_EQ(created->warnings[0], "unknown field \"spec.foo\"");
  EXPECT_FALSE(created->object["spec"].contains("foo"));
}

TEST_F(RegistryCreate, DefaultsClusterFields) {
  auto created = registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", Cluster("c1"), {});
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(created->object["spec"]["componentSpecs"][0]["replicas"], 1);
}

TEST_F(RegistryCreate, DropsStatusOfCustomResource) {
  Json cluster = Cluster("c1");
  cluster["status"] = {{"phase", "Running"}};
  auto created = registry_->Create(Type("apps.kubeblocks.io", "clusters"), "demo", cluster, {});
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_FALSE(created->object.contains("status"));
}

TEST_F(RegistryCreate, GenerateNameAddsSuffix) {
  Json object = ConfigMap("");
  object["metadata"].erase("name");
  object["metadata"]["generateName"] = "cm-";
  auto created = registry_->Create(Type("", "configmaps"), "demo", object, {});
  ASSERT_TRUE(created.ok()) << created.status().message();
  const std::string name = apiserver::Name(created->object);
  EXPECT_EQ(name.rfind("cm-", 0), 0u);
  EXPECT_EQ(name.size(), 8u);
}

TEST_F(RegistryCreate, DryRunStoresNothing) {
  auto created = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {.dry_run = true});
  ASSERT_TRUE(created.ok());
  EXPECT_FALSE(registry_->Get(Type("", "configmaps"), "demo", "cm").ok());
}

TEST_F(RegistryCreate, NamespaceGetsFinalizerAndPhase) {
  auto ns = registry_->Get(Type("", "namespaces"), "", "demo");
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ((*ns)["spec"]["finalizers"], Json::array({"kubernetes"}));
  EXPECT_EQ((*ns)["status"]["phase"], "Active");
  EXPECT_EQ((*ns)["metadata"]["labels"]["kubernetes.io/metadata.name"], "demo");
}

TEST_F(RegistryCreate, TerminatingNamespaceRejectsContent) {
  ASSERT_TRUE(registry_->Delete(Type("", "namespaces"), "", "demo", {}).ok());
  auto created = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kForbidden);
  EXPECT_TRUE(IsNamespaceTerminating(created.status()));
  EXPECT_EQ(created.status().message(),
            "configmaps \"cm\" is forbidden: unable to create new content in namespace demo because it is being "
            "terminated");
  EXPECT_EQ(created.status().details().name, "cm");
}

TEST_F(RegistryUpdate, StaleResourceVersionConflicts) {
  auto created = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {});
  ASSERT_TRUE(created.ok());
  Json first = created->object;
  first["data"]["a"] = "2";
  ASSERT_TRUE(registry_->Update(Type("", "configmaps"), "demo", "cm", first, {}).ok());
  Json stale = created->object;
  stale["data"]["a"] = "3";
  auto updated = registry_->Update(Type("", "configmaps"), "demo", "cm", stale, {});
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), StatusCode::kConflict);
  EXPECT_NE(updated.status().message().find("the object has been modified"), std::string::npos);
}

TEST_F(RegistryUpdate, GenerationBumpsOnSpecChangeOnly) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1"), {}).ok());
  auto labelled = registry_->Patch(clusters, "demo", "c1", PatchType::kMerge, {{"metadata", {{"labels", {{"a", "b"}}}}}}, {});
  ASSERT_TRUE(labelled.ok()) << labelled.status().message();
  EXPECT_EQ(labelled->object["metadata"]["generation"], 1);
  auto changed = registry_->Patch(clusters, "demo", "c1", PatchType::kMerge,
                                  {{"spec", {{"terminationPolicy", "WipeOut"}}}}, {});
  ASSERT_TRUE(changed.ok()) << changed.status().message();
  EXPECT_EQ(changed->object["metadata"]["generation"], 2);
}

TEST_F(RegistryUpdate, MainResourceIgnoresStatus) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1"), {}).ok());
  auto patched = registry_->Patch(clusters, "demo", "c1", PatchType::kMerge, {{"status", {{"phase", "Running"}}}}, {});
  ASSERT_TRUE(patched.ok()) << patched.status().message();
  EXPECT_FALSE(patched->object.contains("status"));
}

TEST_F(RegistryUpdate, StatusSubresourceIgnoresSpec) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1"), {}).ok());
  auto patched = registry_->Patch(clusters, "demo", "c1", PatchType::kMerge,
                                  {{"spec", {{"terminationPolicy", "WipeOut"}}}, {"status", {{"phase", "Running"}}}},
                                  {.subresource = Subresource::kStatus});
  ASSERT_TRUE(patched.ok()) << patched.status().message();
  EXPECT_EQ(patched->object["status"]["phase"], "Running");
  EXPECT_EQ(patched->object["spec"]["terminationPolicy"], "Delete");
  EXPECT_EQ(patched->object["metadata"]["generation"], 1);
}

TEST_F(RegistryUpdate, StatusSubresourceValidatesSchema) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1"), {}).ok());
  auto patched = registry_->Patch(clusters, "demo", "c1", PatchType::kMerge, {{"status", {{"phase", "Sometimes"}}}},
                                  {.subresource = Subresource::kStatus});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.status().code(), StatusCode::kInvalid);
  auto stored = registry_->Get(clusters, "demo", "c1");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->contains("status"));
}

TEST_F(RegistryUpdate, NoOpKeepsResourceVersion) {
  auto created = registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {});
  ASSERT_TRUE(created.ok());
  auto same = registry_->Update(Type("", "configmaps"), "demo", "cm", created->object, {});
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->object["metadata"]["resourceVersion"], created->object["metadata"]["resourceVersion"]);
}

TEST_F(RegistryUpdate, ImmutableFieldRejected) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1"), {}).ok());
  auto patched = registry_->Patch(clusters, "demo", "c1", PatchType::kMerge,
                                  {{"spec", {{"clusterDefinitionRef", "other"}}}}, {});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.status().code(), StatusCode::kInvalid);
  EXPECT_NE(patched.status().message().find("clusterDefinitionRef is immutable"), std::string::npos);
}

TEST_F(RegistryUpdate, NameMismatchRejected) {
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {}).ok());
  auto updated = registry_->Update(Type("", "configmaps"), "demo", "cm", ConfigMap("other"), {});
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), StatusCode::kBadRequest);
}

TEST_F(RegistryPatch, StrategicMergeOnCustomResourceIsUnsupported) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1"), {}).ok());
  auto patched = registry_->Patch(clusters, "demo", "c1", PatchType::kStrategic, {{"spec", Json::object()}}, {});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.status().code(), StatusCode::kUnsupportedMediaType);
}

TEST_F(RegistryPatch, ServerSideApplyCreatesThenUpdates) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  auto created = registry_->Patch(clusters, "demo", "c1", PatchType::kApply, Cluster("c1"), {.field_manager = "kubectl"});
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_TRUE(created->created);
  auto updated = registry_->Patch(clusters, "demo", "c1", PatchType::kApply, Cluster("c1", "WipeOut"),
                                  {.field_manager = "kubectl"});
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_FALSE(updated->created);
  EXPECT_EQ(updated->object["spec"]["terminationPolicy"], "WipeOut");
}

TEST_F(RegistryPatch, MissingObjectIsNotFound) {
  auto patched = registry_->Patch(Type("", "configmaps"), "demo", "nope", PatchType::kMerge, {{"data", Json::object()}}, {});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(patched.status().message(), "configmaps \"nope\" not found");
}

TEST_F(RegistryDelete, WithoutFinalizersRemovesObject) {
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {}).ok());
  auto deleted = registry_->Delete(Type("", "configmaps"), "demo", "cm", {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->finalized);
  EXPECT_FALSE(registry_->Get(Type("", "configmaps"), "demo", "cm").ok());
}

Json BoundPod(const std::string& node) {
  Json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "web-0"}}},
              {"spec", {{"containers", {{{"name", "main"}, {"image", "example/web:1"}}}}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod;
}

TEST_F(RegistryDelete, BoundPodWaitsForItsAgent) {
  ASSERT_TRUE(registry_->Create(Type("", "pods"), "demo", BoundPod("vm"), {}).ok());
  auto deleted = registry_->Delete(Type("", "pods"), "demo", "web-0", {});
  ASSERT_TRUE(deleted.ok()) << deleted.status().message();
  EXPECT_FALSE(deleted->finalized);
  const Json& meta = deleted->object["metadata"];
  EXPECT_EQ(meta["deletionGracePeriodSeconds"], 30) << "terminationGracePeriodSeconds defaults to 30";
  EXPECT_EQ(meta["deletionTimestamp"], "2026-12-04T10:00:30Z");

  // A longer period does not extend it; a shorter one does shorten it.
  deleted = registry_->Delete(Type("", "pods"), "demo", "web-0", {.grace_period_seconds = 60});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->object["metadata"]["deletionGracePeriodSeconds"], 30);
  deleted = registry_->Delete(Type("", "pods"), "demo", "web-0", {.grace_period_seconds = 5});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->object["metadata"]["deletionGracePeriodSeconds"], 5);
  EXPECT_EQ(deleted->object["metadata"]["deletionTimestamp"], "2026-12-04T10:00:05Z");

  // The agent removes it with 0 once the containers are stopped.
  deleted = registry_->Delete(Type("", "pods"), "demo", "web-0", {.grace_period_seconds = 0});
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->finalized);
  EXPECT_FALSE(registry_->Get(Type("", "pods"), "demo", "web-0").ok());
}

TEST_F(RegistryDelete, UnboundPodGoesAtOnce) {
  ASSERT_TRUE(registry_->Create(Type("", "pods"), "demo", BoundPod(""), {}).ok());
  auto deleted = registry_->Delete(Type("", "pods"), "demo", "web-0", {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_TRUE(deleted->finalized);
}

TEST_F(RegistryDelete, FinalizerDefersRemoval) {
  Json object = ConfigMap("cm");
  object["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", object, {}).ok());
  auto deleted = registry_->Delete(Type("", "configmaps"), "demo", "cm", {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(deleted->finalized);
  EXPECT_TRUE(apiserver::IsDeleting(deleted->object));

  auto released = registry_->Patch(Type("", "configmaps"), "demo", "cm", PatchType::kMerge,
                                   {{"metadata", {{"finalizers", nullptr}}}}, {});
  ASSERT_TRUE(released.ok()) << released.status().message();
  EXPECT_FALSE(registry_->Get(Type("", "configmaps"), "demo", "cm").ok());
}

TEST_F(RegistryDelete, NoNewFinalizersWhileDeleting) {
  Json object = ConfigMap("cm");
  object["metadata"]["finalizers"] = {"example.com/hold"};
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", object, {}).ok());
  ASSERT_TRUE(registry_->Delete(Type("", "configmaps"), "demo", "cm", {}).ok());
  auto patched = registry_->Patch(Type("", "configmaps"), "demo", "cm", PatchType::kMerge,
                                  {{"metadata", {{"finalizers", {"example.com/hold", "example.com/more"}}}}}, {});
  ASSERT_FALSE(patched.ok());
  EXPECT_EQ(patched.status().code(), StatusCode::kInvalid);
  ASSERT_EQ(patched.status().details().causes.size(), 1u);
  EXPECT_EQ(patched.status().details().causes[0].field, "metadata.finalizers");
  EXPECT_EQ(patched.status().details().causes[0].type, "FieldValueForbidden");
}

TEST_F(RegistryDelete, PreconditionUidMismatchConflicts) {
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {}).ok());
  DeleteOptions options;
  options.precondition_uid = "00000000-0000-4000-8000-000000000000";
  auto deleted = registry_->Delete(Type("", "configmaps"), "demo", "cm", options);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(registry_->Get(Type("", "configmaps"), "demo", "cm").ok());
}

TEST_F(RegistryDelete, ForegroundAddsFinalizer) {
  ASSERT_TRUE(registry_->Create(Type("", "configmaps"), "demo", ConfigMap("cm"), {}).ok());
  DeleteOptions options;
  options.propagation = Propagation::kForeground;
  auto deleted = registry_->Delete(Type("", "configmaps"), "demo", "cm", options);
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(deleted->finalized);
  EXPECT_TRUE(apiserver::HasFinalizer(deleted->object, "foregroundDeletion"));
}

TEST_F(RegistryDelete, DoNotTerminateClusterIsForbidden) {
  const auto& clusters = Type("apps.kubeblocks.io", "clusters");
  ASSERT_TRUE(registry_->Create(clusters, "demo", Cluster("c1", "DoNotTerminate"), {}).ok());
  auto deleted = registry_->Delete(clusters, "demo", "c1", {});
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), StatusCode::kForbidden);
  EXPECT_NE(deleted.status().message().find("spec.terminationPolicy"), std::string::npos);
  auto still = registry_->Get(clusters, "demo", "c1");
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(apiserver::IsDeleting(*still));
}

TEST_F(RegistryDelete, NamespaceWaitsForFinalizer) {
  auto deleted = registry_->Delete(Type("", "namespaces"), "", "demo", {});
  ASSERT_TRUE(deleted.ok());
  EXPECT_FALSE(deleted->finalized);
  EXPECT_EQ(deleted->object["status"]["phase"], "Terminating");
}

}  // namespace
}  // namespace xblocks::testing
