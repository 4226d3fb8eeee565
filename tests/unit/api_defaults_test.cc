#include <gtest/gtest.h>

#include "api/scheme.h"
#include "api/validation.h"

namespace xblocks::api {
namespace {

const ResourceType& KubeBlocksType(const std::string& kind) {
  static const Scheme scheme = [] {
    Result<Scheme> loaded = Scheme::Load();
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return loaded.ok() ? std::move(*loaded) : Scheme();
  }();
  const ResourceType* type = scheme.FindByKind("apps.kubeblocks.io/v1alpha1", kind);
  EXPECT_NE(type, nullptr) << kind;
  static const ResourceType kEmpty;
  return type == nullptr ? kEmpty : *type;
}

TEST(Defaults, TutorialClusterGetsComponentAndAffinityDefaults) {
  Json cluster = Json::parse(R"({"apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
    "metadata": {"name": "mycluster", "namespace": "demo"},
    "spec": {"terminationPolicy": "Delete", "affinity": {"topologyKeys": ["kubernetes.io/hostname"]},
             "componentSpecs": [{"name": "xinference", "componentDefRef": "xinference"}]}})");
  ApplyDefaults(KubeBlocksType("Cluster"), cluster);
  EXPECT_EQ(cluster["spec"]["componentSpecs"][0]["replicas"], 1);
  EXPECT_EQ(cluster["spec"]["affinity"]["podAntiAffinity"], "Preferred");
  EXPECT_EQ(cluster["spec"]["affinity"]["tenancy"], "SharedNode");
  EXPECT_TRUE(ValidateObject(KubeBlocksType("Cluster"), cluster, nullptr).ok());
}

TEST(Defaults, OnlyWhereParentExists) {
  Json cluster = Json::parse(R"({"metadata": {"name": "c", "namespace": "demo"},
    "spec": {"terminationPolicy": "Delete"}})");
  ApplyDefaults(KubeBlocksType("Cluster"), cluster);
  EXPECT_FALSE(cluster["spec"].contains("affinity"));
  EXPECT_FALSE(cluster["spec"].contains("componentSpecs"));
  EXPECT_FALSE(cluster.contains("status"));
}

TEST(Defaults, ExplicitValuesKept) {
  Json cluster = Json::parse(R"({"spec": {"terminationPolicy": "Delete",
    "componentSpecs": [{"name": "a", "replicas": 0}], "affinity": {"podAntiAffinity": "Required"}}})");
  ApplyDefaults(KubeBlocksType("Cluster"), cluster);
  EXPECT_EQ(cluster["spec"]["componentSpecs"][0]["replicas"], 0);
  EXPECT_EQ(cluster["spec"]["affinity"]["podAntiAffinity"], "Required");
}

TEST(Defaults, NullReplacedByDefault) {
  Json cluster = Json::parse(R"({"spec": {"componentSpecs": [{"name": "a", "replicas": null}]}})");
  ApplyDefaults(KubeBlocksType("Cluster"), cluster);
  EXPECT_EQ(cluster["spec"]["componentSpecs"][0]["replicas"], 1);
}

TEST(Defaults, OpsRequestSpecAndStatus) {
  Json ops = Json::parse(R"({"spec": {"clusterName": "mycluster", "type": "Stop"}, "status": {}})");
  ApplyDefaults(KubeBlocksType("OpsRequest"), ops);
  EXPECT_EQ(ops["spec"]["enqueueOnForce"], false);
  EXPECT_EQ(ops["spec"]["preConditionDeadlineSeconds"], 0);
  EXPECT_EQ(ops["status"]["progress"], "-/-");
}

TEST(Defaults, ClusterDefinitionComponentDefsAndProbes) {
  Json cd = Json::parse(R"({"spec": {"componentDefs": [{"name": "x", "workloadType": "Stateful",
    "probes": {"roleProbe": {}}}]}})");
  ApplyDefaults(KubeBlocksType("ClusterDefinition"), cd);
  const Json& probe = cd["spec"]["componentDefs"][0]["probes"]["roleProbe"];
  EXPECT_EQ(probe["periodSeconds"], 1);
  EXPECT_EQ(probe["failureThreshold"], 3);

  Json empty = Json::parse(R"({"spec": {}})");
  ApplyDefaults(KubeBlocksType("ClusterDefinition"), empty);
  EXPECT_EQ(empty["spec"]["componentDefs"], Json::array());
}

TEST(Defaults, NonObjectInputUnchanged) {
  Json text = "not an object";
  ApplyDefaults(KubeBlocksType("Cluster"), text);
  EXPECT_EQ(text, "not an object");
  Json wrong = Json::parse(R"({"spec": {"componentSpecs": "x", "affinity": 5}})");
  ApplyDefaults(KubeBlocksType("Cluster"), wrong);
  EXPECT_EQ(wrong["spec"]["affinity"], 5);
}

}  // namespace
}  // namespace xblocks::api
