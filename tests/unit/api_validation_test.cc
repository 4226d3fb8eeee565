#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/cel_rules.h"
#include "api/scheme.h"
#include "api/validation.h"
#include "api/yaml.h"
#include "common/embedded_files.h"

namespace xblocks::api {
namespace {

using ::testing::HasSubstr;

const Scheme& LoadedScheme() {
  static const Scheme scheme = [] {
    Result<Scheme> loaded = Scheme::Load();
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return loaded.ok() ? std::move(*loaded) : Scheme();
  }();
  return scheme;
}

const ResourceType& TypeOf(const std::string& kind) {
  const ResourceType* type = LoadedScheme().FindByKind("apps.kubeblocks.io/v1alpha1", kind);
  if (type == nullptr) type = LoadedScheme().FindByKind("v1", kind);
  EXPECT_NE(type, nullptr) << kind;
  static const ResourceType kEmpty;
  return type == nullptr ? kEmpty : *type;
}

// The Cluster of the KubeBlocks Xinference tutorial.
Json TutorialCluster() {
  return Json::parse(R"({
    "apiVersion": "apps.kubeblocks.io/v1alpha1", "kind": "Cluster",
    "metadata": {"name": "mycluster", "namespace": "demo"},
    "spec": {
      "clusterDefinitionRef": "xinference", "clusterVersionRef": "xinference-0.11.0-cpu",
      "terminationPolicy": "Delete",
      "affinity": {"podAntiAffinity": "Preferred", "topologyKeys": ["kubernetes.io/hostname"]},
      "tolerations": [{"key": "kb-data", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
      "componentSpecs": [{
        "name": "xinference", "componentDefRef": "xinference",
        "serviceAccountName": "kb-xinference-cluster", "replicas": 1,
        "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}}
      }]
    }})");
}

Json OpsRequest(const std::string& name, const std::string& type) {
  return Json{{"apiVersion", "apps.kubeblocks.io/v1alpha1"},
              {"kind", "OpsRequest"},
              {"metadata", {{"name", name}, {"namespace", "demo"}}},
              {"spec", {{"clusterName", "mycluster"}, {"type", type}}}};
}

// Validates after defaulting, as the API server does.
Status Admit(const std::string& kind, Json object, const Json* old_object = nullptr) {
  ApplyDefaults(TypeOf(kind), object);
  return ValidateObject(TypeOf(kind), object, old_object);
}

const StatusCause* FindCause(const Status& status, const std::string& field) {
  for (const StatusCause& cause : status.details().causes) {
    if (cause.field == field) return &cause;
  }
  return nullptr;
}

TEST(Validation, TutorialClusterIsValid) {
  Status status = Admit("Cluster", TutorialCluster());
  EXPECT_TRUE(status.ok()) << status.message();
}

TEST(Validation, TutorialOpsRequestsAreValid) {
  Json vertical = OpsRequest("mycluster-vertical-scaling", "VerticalScaling");
  vertical["spec"]["verticalScaling"] = Json::parse(
      R"([{"componentName": "xinference", "requests": {"memory": "2Gi", "cpu": "2"},
           "limits": {"memory": "4Gi", "cpu": "2"}}])");
  Json restart = OpsRequest("mycluster-restart", "Restart");
  restart["spec"]["restart"] = Json::parse(R"([{"componentName": "xinference"}])");

  for (const Json& ops : {vertical, restart, OpsRequest("mycluster-stop", "Stop"),
                          OpsRequest("mycluster-start", "Start")}) {
    Status status = Admit("OpsRequest", ops);
    EXPECT_TRUE(status.ok()) << ops["metadata"]["name"] << ": " << status.message();
  }
}

TEST(Validation, NegativeReplicasRejected) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["replicas"] = -1;
  Status status = Admit("Cluster", cluster);
  ASSERT_EQ(status.code(), StatusCode::kInvalid);
  const StatusCause* cause = FindCause(status, "spec.componentSpecs[0].replicas");
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->type, "FieldValueInvalid");
  EXPECT_EQ(cause->message,
            "Invalid value: -1: spec.componentSpecs[0].replicas in body should be greater than or equal to 0");
}

TEST(Validation, UnsupportedTerminationPolicyMessage) {
  Json cluster = TutorialCluster();
  cluster["metadata"]["name"] = "bad";
  cluster["spec"]["terminationPolicy"] = "Sometimes";
  Status status = Admit("Cluster", cluster);
  ASSERT_EQ(status.code(), StatusCode::kInvalid);
  EXPECT_EQ(status.message(),
            "Cluster.apps.kubeblocks.io \"bad\" is invalid: spec.terminationPolicy: Unsupported value: "
            "\"Sometimes\": supported values: \"DoNotTerminate\", \"Halt\", \"Delete\", \"WipeOut\"");
  EXPECT_EQ(status.details().kind, "Cluster");
  EXPECT_EQ(status.details().group, "apps.kubeblocks.io");
  EXPECT_EQ(status.details().name, "bad");
  ASSERT_EQ(status.details().causes.size(), 1u);
  EXPECT_EQ(status.details().causes[0].type, "FieldValueNotSupported");
}

TEST(Validation, BadQuantityFailsPattern) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["resources"]["limits"]["memory"] = "1Gx";
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.componentSpecs[0].resources.limits.memory");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_THAT(cause->message, HasSubstr("Invalid value: \"1Gx\": spec.componentSpecs[0].resources.limits.memory "
                                        "in body should match '^(\\+|-)?"));
}

TEST(Validation, IntegerQuantityAccepted) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["resources"]["limits"]["cpu"] = 2;
  Status status = Admit("Cluster", cluster);
  EXPECT_TRUE(status.ok()) << status.message();
}

TEST(Validation, LongClusterDefinitionRefTooLong) {
  Json cluster = TutorialCluster();
  cluster["spec"]["clusterDefinitionRef"] = std::string(64, 'a');
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.clusterDefinitionRef");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->message, "Too long: may not be longer than 63");
}

TEST(Validation, MissingTerminationPolicyRequired) {
  Json cluster = TutorialCluster();
  cluster["spec"].erase("terminationPolicy");
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.terminationPolicy");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->type, "FieldValueRequired");
  EXPECT_EQ(cause->message, "Required value");
}

TEST(Validation, SeveralCausesBracketed) {
  Json cluster = TutorialCluster();
  cluster["metadata"]["name"] = "bad2";
  cluster["spec"].erase("terminationPolicy");
  cluster["spec"]["componentSpecs"][0]["replicas"] = -1;
  Status status = Admit("Cluster", cluster);
  EXPECT_EQ(status.details().causes.size(), 2u);
  EXPECT_THAT(status.message(), HasSubstr("Cluster.apps.kubeblocks.io \"bad2\" is invalid: [spec."));
  EXPECT_THAT(status.message(), HasSubstr("spec.terminationPolicy: Required value"));
  EXPECT_EQ(status.message().back(), ']');
}

TEST(Validation, DuplicatedComponentNames) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"].push_back(cluster["spec"]["componentSpecs"][0]);
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.componentSpecs");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->message, "Invalid value: \"array\": duplicated component");
}

TEST(Validation, MixedDefinitionApisRejected) {
  Json cluster = TutorialCluster();
  Json second = cluster["spec"]["componentSpecs"][0];
  second["name"] = "other";
  second["componentDef"] = "xinference";
  cluster["spec"]["componentSpecs"].push_back(second);
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.componentSpecs");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_THAT(cause->message, HasSubstr("two kinds of definition API can not be used simultaneously"));
}

TEST(Validation, WrongTypeReported) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["replicas"] = "three";
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.componentSpecs[0].replicas");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->message, "Invalid value: \"string\": spec.componentSpecs[0].replicas in body must be of "
                            "type integer: \"string\"");
}

TEST(Validation, ClusterDefinitionRefImmutableOnUpdate) {
  Json old_cluster = TutorialCluster();
  Json cluster = TutorialCluster();
  cluster["spec"]["clusterDefinitionRef"] = "other";
  Status status = Admit("Cluster", cluster, &old_cluster);
  const StatusCause* cause = FindCause(status, "spec.clusterDefinitionRef");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->message, "Invalid value: \"string\": clusterDefinitionRef is immutable");

  EXPECT_TRUE(Admit("Cluster", cluster).ok()) << "transition rules must not run on create";
}

TEST(Validation, ClusterDefinitionRefMaySetWhenOldLacksIt) {
  Json old_cluster = TutorialCluster();
  old_cluster["spec"].erase("clusterDefinitionRef");
  Status status = Admit("Cluster", TutorialCluster(), &old_cluster);
  EXPECT_TRUE(status.ok()) << status.message();
}

TEST(Validation, OpsRequestTypeImmutable) {
  Json old_ops = OpsRequest("ops", "Restart");
  Json ops = OpsRequest("ops", "Stop");
  Status status = Admit("OpsRequest", ops, &old_ops);
  const StatusCause* cause = FindCause(status, "spec.type");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->message, "Invalid value: \"string\": forbidden to update spec.type");
}

TEST(Validation, OpsRequestBadTypeEnum) {
  Status status = Admit("OpsRequest", OpsRequest("ops", "Reboot"));
  const StatusCause* cause = FindCause(status, "spec.type");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->type, "FieldValueNotSupported");
  EXPECT_THAT(cause->message, HasSubstr("Unsupported value: \"Reboot\": supported values: \"Upgrade\""));
}

TEST(Validation, OpsRequestCancelOnlyForScaling) {
  Json ops = OpsRequest("ops", "Restart");
  ops["spec"]["cancel"] = true;
  Status status = Admit("OpsRequest", ops);
  const StatusCause* cause = FindCause(status, "spec");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_THAT(cause->message,
              HasSubstr("forbidden to cancel the opsRequest which type not in ['VerticalScaling','HorizontalScaling']"));

  Json scaling = OpsRequest("ops", "VerticalScaling");
  scaling["spec"]["cancel"] = true;
  EXPECT_TRUE(Admit("OpsRequest", scaling).ok());
}

TEST(Validation, OpsRequestDuplicateListMapKey) {
  Json ops = OpsRequest("ops", "Restart");
  ops["spec"]["restart"] = Json::parse(R"([{"componentName": "a"}, {"componentName": "a"}])");
  Status status = Admit("OpsRequest", ops);
  const StatusCause* cause = FindCause(status, "spec.restart[1]");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->type, "FieldValueDuplicate");
}

TEST(Validation, OpsRequestProgressPattern) {
  Json ops = OpsRequest("ops", "Restart");
  ops["status"] = {{"progress", "one of two"}};
  Status status = Admit("OpsRequest", ops);
  EXPECT_NE(FindCause(status, "status.progress"), nullptr) << status.message();
}

TEST(Validation, NullForNonNullableField) {
  Json cluster = TutorialCluster();
  cluster["spec"]["clusterVersionRef"] = nullptr;
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "spec.clusterVersionRef");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_THAT(cause->message, HasSubstr("must be of type string"));
}

TEST(Validation, Int32RangeChecked) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["replicas"] = 3000000000LL;
  Status status = Admit("Cluster", cluster);
  EXPECT_NE(FindCause(status, "spec.componentSpecs[0].replicas"), nullptr) << status.message();
}

TEST(Validation, HugeStringDoesNotCrash) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"][0]["resources"]["limits"]["memory"] = std::string(1 << 20, '1');
  Status status = Admit("Cluster", cluster);
  EXPECT_EQ(status.code(), StatusCode::kInvalid);
}

TEST(Validation, NonObjectBodyRejected) {
  EXPECT_EQ(ValidateObject(TypeOf("Cluster"), Json::array(), nullptr).code(), StatusCode::kInvalid);
  EXPECT_EQ(ValidateObject(TypeOf("Cluster"), Json("text"), nullptr).code(), StatusCode::kInvalid);
}

TEST(Validation, WrongTypesEverywhereDoNotCrash) {
  Json cluster = TutorialCluster();
  cluster["spec"]["componentSpecs"] = "not a list";
  cluster["spec"]["affinity"] = Json::array({1, 2});
  cluster["metadata"]["labels"] = Json::array();
  Status status = Admit("Cluster", cluster);
  EXPECT_EQ(status.code(), StatusCode::kInvalid);
  EXPECT_GE(status.details().causes.size(), 3u);
}

TEST(Metadata, BadNameRejected) {
  Json cluster = TutorialCluster();
  cluster["metadata"]["name"] = "Bad_Name";
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "metadata.name");
  ASSERT_NE(cause, nullptr) << status.message();
  EXPECT_EQ(cause->message,
            "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of lower case "
            "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character "
            "(e.g. 'example.com', regex used for validation is "
            "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')");
}

TEST(Metadata, NameOrGenerateNameRequired) {
  Json cluster = TutorialCluster();
  cluster["metadata"].erase("name");
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "metadata.name");
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->message, "Required value: name or generateName is required");

  cluster["metadata"]["generateName"] = "mycluster-";
  EXPECT_TRUE(Admit("Cluster", cluster).ok());
}

TEST(Metadata, NamespaceNameIsLabel) {
  Json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "a.b"}}}};
  Status status = ValidateObject(TypeOf("Namespace"), ns, nullptr);
  const StatusCause* cause = FindCause(status, "metadata.name");
  ASSERT_NE(cause, nullptr);
  EXPECT_THAT(cause->message, HasSubstr("a lowercase RFC 1123 label must consist of"));
  EXPECT_EQ(status.message().rfind("Namespace \"a.b\" is invalid: ", 0), 0u) << status.message();
}

TEST(Metadata, ClusterScopedForbidsNamespace) {
  Json cd = {{"apiVersion", "apps.kubeblocks.io/v1alpha1"}, {"kind", "ClusterDefinition"},
             {"metadata", {{"name", "xinference"}, {"namespace", "demo"}}}};
  Status status = ValidateObject(TypeOf("ClusterDefinition"), cd, nullptr);
  EXPECT_NE(FindCause(status, "metadata.namespace"), nullptr) << status.message();
}

TEST(Metadata, LabelKeysAndValuesChecked) {
  Json cluster = TutorialCluster();
  cluster["metadata"]["labels"] = {{"bad key", "ok"}, {"good/key", "bad value!"}, {"/x", "v"}};
  Status status = Admit("Cluster", cluster);
  ASSERT_EQ(status.code(), StatusCode::kInvalid);
  int label_causes = 0;
  for (const StatusCause& cause : status.details().causes) label_causes += cause.field == "metadata.labels";
  EXPECT_EQ(label_causes, 3) << status.message();
}

TEST(Metadata, AnnotationsTotalSizeLimited) {
  Json cluster = TutorialCluster();
  cluster["metadata"]["annotations"] = {{"big", std::string(256 * 1024, 'x')}};
  Status status = Admit("Cluster", cluster);
  const StatusCause* cause = FindCause(status, "metadata.annotations");
  ASSERT_NE(cause, nullptr);
  EXPECT_EQ(cause->message, "Too long: must have at most 262144 bytes");
}

TEST(UnknownFields, ReportedWithKubePaths) {
  Json cluster = TutorialCluster();
  cluster["spec"]["foo"] = 1;
  cluster["spec"]["componentSpecs"][0]["bogus"] = true;
  cluster["metadata"]["bogus"] = "x";
  cluster["spec"]["tolerations"][0]["anything"] = "kept";  // preserve-unknown subtree
  std::vector<std::string> unknown = FindUnknownFields(TypeOf("Cluster"), cluster);
  EXPECT_THAT(unknown, ::testing::UnorderedElementsAre("spec.foo", "spec.componentSpecs[0].bogus",
                                                       "metadata.bogus"));
}

TEST(UnknownFields, PruneRemovesOnlyUnknown) {
  Json cluster = TutorialCluster();
  cluster["spec"]["foo"] = 1;
  cluster["spec"]["componentSpecs"][0]["bogus"] = true;
  cluster["spec"]["tolerations"][0]["anything"] = "kept";
  PruneUnknownFields(TypeOf("Cluster"), cluster);
  EXPECT_FALSE(cluster["spec"].contains("foo"));
  EXPECT_FALSE(cluster["spec"]["componentSpecs"][0].contains("bogus"));
  EXPECT_EQ(cluster["spec"]["tolerations"][0]["anything"], "kept");
  EXPECT_TRUE(FindUnknownFields(TypeOf("Cluster"), cluster).empty());
  EXPECT_TRUE(Admit("Cluster", cluster).ok());
}

TEST(UnknownFields, BuiltinKindsCheckOnlyMetadata) {
  Json pod = {{"apiVersion", "v1"}, {"kind", "Pod"},
              {"metadata", {{"name", "p"}, {"namespace", "demo"}, {"bogus", 1}}},
              {"spec", {{"anything", 1}}}};
  EXPECT_THAT(FindUnknownFields(TypeOf("Pod"), pod), ::testing::ElementsAre("metadata.bogus"));
}

// Collects the rule texts of every x-kubernetes-validations entry below `schema`.
void CollectRules(const Json& schema, std::vector<std::string>& rules) {
  if (schema.is_object()) {
    if (schema.contains("x-kubernetes-validations")) {
      for (const Json& rule : schema["x-kubernetes-validations"]) rules.push_back(rule["rule"]);
    }
    for (const auto& [key, child] : schema.items()) CollectRules(child, rules);
  } else if (schema.is_array()) {
    for (const Json& child : schema) CollectRules(child, rules);
  }
}

TEST(CelRules, EveryCrdRuleIsInTable) {
  std::vector<std::string> rules;
  for (const EmbeddedFile& file : EmbeddedFiles()) {
    if (file.path.substr(0, 12) != "deploy/crds/") continue;
    Result<std::vector<Json>> documents = ParseYamlDocuments(file.content);
    ASSERT_TRUE(documents.ok()) << file.path;
    for (const Json& crd : *documents) CollectRules(crd, rules);
  }
  EXPECT_GE(rules.size(), 10u);
  for (const std::string& rule : rules) EXPECT_NE(FindCelRule(rule), nullptr) << rule;
}

TEST(CelRules, UnknownRuleFailsSchemeLoad) {
  Json schema = Json::parse(R"({"type": "object", "properties": {"spec": {"type": "object",
      "x-kubernetes-validations": [{"rule": "self.x > 1", "message": "x"}]}}})");
  Status status = CheckSchemaSupported(schema);
  EXPECT_EQ(status.code(), StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("self.x > 1"));
}

TEST(CelRules, BadPatternFailsSchemeLoad) {
  Json schema = Json::parse(R"({"type": "object", "properties": {"a": {"type": "string", "pattern": "(["}}})");
  EXPECT_EQ(CheckSchemaSupported(schema).code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace xblocks::api
