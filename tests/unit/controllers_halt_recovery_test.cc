// CheckHaltRecovery: a re-created cluster against the PVCs that a Halt deletion kept.
#include <gtest/gtest.h>

#include "controllers/halt_recovery.h"

namespace xblocks::controllers {
namespace {

Json Cluster(const std::string& uid = "uid-new") {
  Json cluster = Json::parse(R"json({
    "metadata": {"name": "xc", "namespace": "demo", "annotations": {}},
    "spec": {"clusterDefinitionRef": "xinference", "clusterVersionRef": "xinference-0.11.0",
             "terminationPolicy": "Halt",
             "componentSpecs": [{"name": "xinference", "componentDefRef": "xinference", "replicas": 1,
               "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
               "volumeClaimTemplates": [{"name": "data", "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}}]}]}})json");
  cluster["metadata"]["uid"] = uid;
  return cluster;
}

// A PVC that Halt kept, storing `stored` (dumped) as the last applied cluster.
Json KeptClaim(const Json& stored) {
  return {{"metadata",
           {{"name", "data-xc-xinference-0"},
            {"namespace", "demo"},
            {"annotations", {{kLastAppliedClusterAnnotation, stored.dump()}}}}}};
}

std::string MessageFor(const Json& cluster, const Json& stored) {
  auto failure = CheckHaltRecovery(cluster, {KeptClaim(stored)});
  return failure ? failure->reason + ": " + failure->message : "";
}

TEST(HaltRecovery, NoClaimsPasses) { EXPECT_FALSE(CheckHaltRecovery(Cluster(), {}).has_value()); }

TEST(HaltRecovery, IdenticalSpecPasses) {
  EXPECT_FALSE(CheckHaltRecovery(Cluster(), {KeptClaim(Cluster("uid-old"))}).has_value());
}

TEST(HaltRecovery, SameUidPassesWithoutComparing) {
  Json stored = Cluster("uid-new");
  stored["spec"]["componentSpecs"][0]["replicas"] = 5;
  EXPECT_FALSE(CheckHaltRecovery(Cluster("uid-new"), {KeptClaim(stored)}).has_value());
}

TEST(HaltRecovery, ClaimWithoutAnnotationIsUncleaned) {
  Json claim = {{"metadata", {{"name", "data-xc-xinference-0"}, {"namespace", "demo"}}}};

  auto failure = CheckHaltRecovery(Cluster(), {claim});

  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->reason, "UncleanedResources");
  EXPECT_NE(failure->message.find("kubectl -n demo get pvc,secret,cm -l app.kubernetes.io/instance=xc"),
            std::string::npos)
      << failure->message;
}

TEST(HaltRecovery, OnlyTheFirstClaimIsRead) {
  Json unannotated = {{"metadata", {{"name", "data-xc-xinference-1"}, {"namespace", "demo"}}}};
  EXPECT_FALSE(CheckHaltRecovery(Cluster(), {KeptClaim(Cluster("uid-old")), unannotated}).has_value());
}

TEST(HaltRecovery, UnparsableAnnotationFails) {
  Json claim = KeptClaim(Json::object());
  claim["metadata"]["annotations"][kLastAppliedClusterAnnotation] = "{not json";

  auto failure = CheckHaltRecovery(Cluster(), {claim});

  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->reason, "HaltRecoveryFailed");
  EXPECT_NE(failure->message.find("is not a JSON object"), std::string::npos) << failure->message;
}

TEST(HaltRecovery, ReplicasMismatchNamesField) {
  Json cluster = Cluster();
  cluster["spec"]["componentSpecs"][0]["replicas"] = 2;

  const std::string message = MessageFor(cluster, Cluster("uid-old"));

  EXPECT_NE(message.find("HaltRecoveryFailed: "), std::string::npos) << message;
  EXPECT_NE(message.find("spec.componentSpecs[xinference].replicas=2 is not equal to last applied "
                         "cluster.spec.componentSpecs[xinference].replicas=1"),
            std::string::npos)
      << message;
}

TEST(HaltRecovery, MissingReplicasCountsAsOne) {
  Json cluster = Cluster();
  cluster["spec"]["componentSpecs"][0].erase("replicas");
  EXPECT_EQ(MessageFor(cluster, Cluster("uid-old")), "");
}

// Each entry changes one field of the new cluster; the message must name that field.
struct FieldCase {
  const char* pointer;  // JSON pointer into the new cluster
  Json value;
  const char* field;  // the path the message names, after "spec."
};

class HaltRecoveryField : public ::testing::TestWithParam<FieldCase> {};

TEST_P(HaltRecoveryField, MismatchNamesField) {
  Json cluster = Cluster();
  cluster[Json::json_pointer(GetParam().pointer)] = GetParam().value;

  const std::string message = MessageFor(cluster, Cluster("uid-old"));

  EXPECT_NE(message.find(std::string("not equal to last applied cluster.spec.") + GetParam().field),
            std::string::npos)
      << message;
}

INSTANTIATE_TEST_SUITE_P(
    Fields, HaltRecoveryField,
    ::testing::Values(
        FieldCase{"/spec/clusterDefinitionRef", "other", "clusterDefinitionRef=xinference"},
        FieldCase{"/spec/clusterVersionRef", "xinference-0.12.0", "clusterVersionRef=xinference-0.11.0"},
        FieldCase{"/spec/componentSpecs/0/name", "worker", "componentSpecs[xinference].name=xinference"},
        FieldCase{"/spec/componentSpecs/0/componentDefRef", "other",
                  "componentSpecs[xinference].componentDefRef=xinference"},
        FieldCase{"/spec/componentSpecs/0/resources/limits/memory", "2Gi", "componentSpecs[xinference].resources="},
        FieldCase{"/spec/componentSpecs/0/classDefRef", Json{{"class", "general-1c1g"}},
                  "componentSpecs[xinference].classDefRef=<unset>"},
        FieldCase{"/spec/componentSpecs/0/volumeClaimTemplates/0/spec/resources/requests/storage", "2Gi",
                  "componentSpecs[xinference].volumeClaimTemplates="},
        FieldCase{"/spec/componentSpecs/1", Json{{"name", "worker"}, {"componentDefRef", "xinference"}},
                  "componentSpecs (number of components)=1"}));

TEST(HaltRecovery, QuantitiesCompareByValue) {
  Json cluster = Cluster();
  cluster["spec"]["componentSpecs"][0]["resources"]["limits"]["memory"] = "1024Mi";
  cluster["spec"]["componentSpecs"][0]["resources"]["requests"]["cpu"] = "1000m";
  cluster["spec"]["componentSpecs"][0]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] =
      "1073741824";
  EXPECT_EQ(MessageFor(cluster, Cluster("uid-old")), "");
}

TEST(HaltRecovery, AllowInconsistentCvSkipsVersion) {
  Json cluster = Cluster();
  cluster["spec"]["clusterVersionRef"] = "xinference-0.12.0";
  cluster["metadata"]["annotations"][kAllowInconsistentCvAnnotation] = "true";
  EXPECT_EQ(MessageFor(cluster, Cluster("uid-old")), "");
}

TEST(HaltRecovery, AllowInconsistentResourceSkipsResources) {
  Json cluster = Cluster();
  cluster["spec"]["componentSpecs"][0]["resources"]["limits"]["memory"] = "2Gi";
  cluster["spec"]["componentSpecs"][0]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = "5Gi";
  cluster["metadata"]["annotations"][kAllowInconsistentResourceAnnotation] = "true";
  EXPECT_EQ(MessageFor(cluster, Cluster("uid-old")), "");
}

TEST(HaltRecovery, AllowInconsistentResourceKeepsReplicas) {
  Json cluster = Cluster();
  cluster["spec"]["componentSpecs"][0]["replicas"] = 3;
  cluster["metadata"]["annotations"][kAllowInconsistentResourceAnnotation] = "true";
  EXPECT_NE(MessageFor(cluster, Cluster("uid-old")).find("replicas=1"), std::string::npos);
}

TEST(HaltRecovery, MalformedStoredShapesFail) {
  // Each pointer replaces a part of an otherwise matching stored cluster with a wrong type.
  const std::vector<std::pair<const char*, Json>> cases = {
      {"/spec", Json::array()},
      {"/spec/componentSpecs", Json::object()},
      {"/spec/componentSpecs/0", 1},
      {"/spec/componentSpecs/0/replicas", "one"},
      {"/spec/componentSpecs/0/resources", "1Gi"},
      {"/spec/componentSpecs/0/volumeClaimTemplates", Json::array({{{"spec", 3}}})},
  };
  for (const auto& [pointer, value] : cases) {
    Json stored = Cluster("uid-old");
    stored[Json::json_pointer(pointer)] = value;

    auto failure = CheckHaltRecovery(Cluster(), {KeptClaim(stored)});

    ASSERT_TRUE(failure.has_value()) << pointer;
    EXPECT_EQ(failure->reason, "HaltRecoveryFailed") << pointer;
  }
}

}  // namespace
}  // namespace xblocks::controllers
