#include <gtest/gtest.h>

#include "api/field_set.h"
#include "api/patch.h"

namespace xblocks::api {
namespace {

using std::chrono::seconds;

Json Parse(const char* text) { return Json::parse(text); }

const std::chrono::system_clock::time_point kT0{seconds(1714557600)};  // 2024-05-01T10:00:00Z
const std::chrono::system_clock::time_point kT1{seconds(1714561200)};  // 2024-05-01T11:00:00Z

ApplyOptions Options(const std::string& manager, std::chrono::system_clock::time_point now = kT0,
                     bool force = false) {
  ApplyOptions options;
  options.field_manager = manager;
  options.now = now;
  options.force = force;
  return options;
}

// Applies `body` as `manager` and fails the test on error.
Json MustApply(const Json& live, const char* body, const ApplyOptions& options) {
  Result<Json> result = ApplyServerSide(live, Parse(body), options);
  EXPECT_TRUE(result.ok()) << result.status().message();
  return result.ok() ? *result : Json();
}

const Json* FindEntry(const Json& object, const std::string& manager) {
  for (const Json& entry : object["metadata"]["managedFields"]) {
    if (entry["manager"] == manager) return &entry;
  }
  return nullptr;
}

Json WithoutManagedFields(Json object) {
  object["metadata"].erase("managedFields");
  return object;
}

// ---- FieldSet ----

TEST(FieldSet, RoundTripsFieldsV1) {
  Json fields = Parse(R"({"f:metadata":{"f:labels":{"f:app":{}}},
      "f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{}}},"f:replicas":{}}})");
  Result<FieldSet> set = FieldSet::FromFieldsV1(fields);
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->ToFieldsV1(), fields);
  EXPECT_EQ(set->Members().size(), 5u);
}

TEST(FieldSet, RejectsInvalidKeys) {
  EXPECT_FALSE(FieldSet::FromFieldsV1(Parse(R"({"spec":{}})")).ok());
  EXPECT_FALSE(FieldSet::FromFieldsV1(Parse(R"({"f:spec":[]})")).ok());
  EXPECT_FALSE(FieldSet::FromFieldsV1(Parse(R"([])")).ok());
}

TEST(FieldSet, UnionDifferenceIntersection) {
  FieldSet a = *FieldSet::FromFieldsV1(Parse(R"({"f:spec":{"f:a":{},"f:b":{}}})"));
  FieldSet b = *FieldSet::FromFieldsV1(Parse(R"({"f:spec":{"f:b":{},"f:c":{}}})"));
  EXPECT_EQ(a.Union(b).ToFieldsV1(), Parse(R"({"f:spec":{"f:a":{},"f:b":{},"f:c":{}}})"));
  EXPECT_EQ(a.Difference(b).ToFieldsV1(), Parse(R"({"f:spec":{"f:a":{}}})"));
  EXPECT_EQ(a.Intersection(b).ToFieldsV1(), Parse(R"({"f:spec":{"f:b":{}}})"));
  EXPECT_TRUE(a.Difference(a).empty());
}

TEST(FieldSet, FromObjectUsesKeysSetsAndAtomicLists) {
  Result<FieldSet> set = FieldSet::FromObject(Parse(R"({
      "metadata":{"finalizers":["a"],"labels":{}},
      "spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}],"tolerations":[{"key":"k"}]}})"));
  ASSERT_TRUE(set.ok()) << set.status().message();
  EXPECT_EQ(set->ToFieldsV1(), Parse(R"({
      "f:metadata":{"f:finalizers":{"v:\"a\"":{}},"f:labels":{}},
      "f:spec":{"f:containers":{"k:{\"name\":\"c\"}":{".":{},"f:name":{},
                "f:ports":{"k:{\"containerPort\":80}":{".":{},"f:containerPort":{}}}}},
                "f:tolerations":{}}})"));
}

TEST(FieldSet, FormatsPathsLikeKube) {
  EXPECT_EQ(FormatFieldSetPath({"f:spec", "f:containers", "k:{\"name\":\"a\"}", "f:image"}),
            ".spec.containers[name=\"a\"].image");
  EXPECT_EQ(FormatFieldSetPath({"f:metadata", "f:finalizers", "v:\"x\""}), ".metadata.finalizers[=\"x\"]");
}

// ---- server-side apply ----

TEST(ServerSideApply, RequiresFieldManager) {
  Result<Json> result = ApplyServerSide(Json(), Parse(R"({"kind":"ConfigMap"})"), Options(""));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(result.status().message(), "PATCH request with apply-patch+yaml requires fieldManager");
  ASSERT_EQ(result.status().details().causes.size(), 1u);
  EXPECT_EQ(result.status().details().causes[0].field, "fieldManager");
  EXPECT_EQ(result.status().details().causes[0].message, "is required for apply requests");
}

TEST(ServerSideApply, CreatesWithManagedFields) {
  Json created = MustApply(Json(), R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"demo","labels":{"app":"web"},"creationTimestamp":null},
      "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"app","image":"nginx"}]}}}})",
      Options("kubectl"));
  EXPECT_EQ(WithoutManagedFields(created), Parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
      "metadata":{"name":"web","namespace":"demo","labels":{"app":"web"}},
      "spec":{"replicas":2,"template":{"spec":{"containers":[{"name":"app","image":"nginx"}]}}}})"));
  EXPECT_EQ(created["metadata"]["managedFields"], Parse(R"([{"manager":"kubectl","operation":"Apply",
      "apiVersion":"apps/v1","time":"2024-05-01T10:00:00Z","fieldsType":"FieldsV1",
      "fieldsV1":{"f:metadata":{"f:labels":{"f:app":{}}},
                  "f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{
                      "k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}}}}}}])"));
}

TEST(ServerSideApply, UpdateMergesIntoLiveObject) {
  Json live = MustApply(Json(), R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}})",
                        Options("kubectl"));
  live["metadata"]["uid"] = "u1";
  live["data"]["fromController"] = "x";
  Json updated = MustApply(live, R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"2","b":"3"}})",
                           Options("kubectl", kT1));
  EXPECT_EQ(WithoutManagedFields(updated),
            Parse(R"({"kind":"ConfigMap","metadata":{"name":"c","uid":"u1"},"data":{"a":"2","b":"3","fromController":"x"}})"));
  EXPECT_EQ((*FindEntry(updated, "kubectl"))["time"], "2024-05-01T11:00:00Z");
}

TEST(ServerSideApply, RemovesFieldsNoLongerApplied) {
  Json live = MustApply(Json(), R"({"kind":"Pod","metadata":{"name":"p","labels":{"app":"a","tier":"t"}},
      "spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}],"hostname":"h"}})",
      Options("kubectl"));
  Json updated = MustApply(live, R"({"kind":"Pod","metadata":{"name":"p","labels":{"app":"a"}},
      "spec":{"containers":[{"name":"a","image":"a:1"}]}})", Options("kubectl"));
  EXPECT_EQ(WithoutManagedFields(updated), Parse(R"({"kind":"Pod","metadata":{"name":"p","labels":{"app":"a"}},
      "spec":{"containers":[{"name":"a","image":"a:1"}]}})"));
  EXPECT_EQ((*FindEntry(updated, "kubectl"))["fieldsV1"], Parse(R"({"f:metadata":{"f:labels":{"f:app":{}}},
      "f:spec":{"f:containers":{"k:{\"name\":\"a\"}":{".":{},"f:image":{},"f:name":{}}}}})"));
}

TEST(ServerSideApply, ConflictWithOtherManager) {
  Json live = MustApply(Json(), R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1"}})",
                        Options("other"));
  Result<Json> result = ApplyServerSide(
      live, Parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"2"}})"),
      Options("kubectl"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kConflict);
  EXPECT_EQ(result.status().message(), "Apply failed with 1 conflict: conflict with \"other\" using v1: .data.x");
  ASSERT_EQ(result.status().details().causes.size(), 1u);
  EXPECT_EQ(result.status().details().causes[0].type, "FieldManagerConflict");
  EXPECT_EQ(result.status().details().causes[0].field, ".data.x");
  EXPECT_EQ(result.status().details().causes[0].message, "conflict with \"other\" using v1");
}

TEST(ServerSideApply, ConflictMessageCountsEveryField) {
  Json live = MustApply(Json(), R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1","y":"1"}})",
                        Options("other"));
  Result<Json> result = ApplyServerSide(
      live, Parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"2","y":"2"}})"),
      Options("kubectl"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "Apply failed with 2 conflicts: conflict with \"other\" using v1: .data.x\n"
            "conflict with \"other\" using v1: .data.y");
  EXPECT_EQ(result.status().details().causes.size(), 2u);
}

TEST(ServerSideApply, ForceTakesOwnership) {
  Json live = MustApply(Json(), R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1","y":"1"}})",
                        Options("other"));
  Json updated = MustApply(live, R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"2"}})",
                           Options("kubectl", kT1, /*force=*/true));
  EXPECT_EQ(updated["data"], Parse(R"({"x":"2","y":"1"})"));
  EXPECT_EQ((*FindEntry(updated, "other"))["fieldsV1"], Parse(R"({"f:data":{"f:y":{}}})"));
  EXPECT_EQ((*FindEntry(updated, "kubectl"))["fieldsV1"], Parse(R"({"f:data":{"f:x":{}}})"));
}

TEST(ServerSideApply, SameValueIsSharedAndKeptOnRelease) {
  Json live = MustApply(Json(), R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1"}})", Options("a"));
  live = MustApply(live, R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1","z":"9"}})", Options("b"));
  ASSERT_NE(FindEntry(live, "a"), nullptr);
  ASSERT_NE(FindEntry(live, "b"), nullptr);

  // "a" stops applying x, but "b" still owns it, so x stays.
  Json updated = MustApply(live, R"({"kind":"ConfigMap","metadata":{"name":"c"}})", Options("a"));
  EXPECT_EQ(updated["data"], Parse(R"({"x":"1","z":"9"})"));
  EXPECT_EQ(FindEntry(updated, "a"), nullptr);
}

TEST(ServerSideApply, LastAppliedManagerDoesNotRemoveSpec) {
  Json live = MustApply(Json(), R"({"apiVersion":"apps.kubeblocks.io/v1alpha1","kind":"Cluster",
      "metadata":{"name":"mycluster","namespace":"demo","labels":{"app":"x"}},
      "spec":{"terminationPolicy":"Delete","componentSpecs":[{"name":"xinference","replicas":1}]}})",
      Options("kubectl"));
  Json updated = MustApply(live, R"({"apiVersion":"apps.kubeblocks.io/v1alpha1","kind":"Cluster",
      "metadata":{"name":"mycluster","namespace":"demo","annotations":
        {"kubectl.kubernetes.io/last-applied-configuration":"{}"}}})", Options("kubectl-last-applied", kT1));
  EXPECT_EQ(updated["spec"], live["spec"]);
  EXPECT_EQ(updated["metadata"]["labels"], live["metadata"]["labels"]);
  EXPECT_EQ(updated["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"], "{}");
  EXPECT_EQ((*FindEntry(updated, "kubectl-last-applied"))["fieldsV1"],
            Parse(R"({"f:metadata":{"f:annotations":{"f:kubectl.kubernetes.io/last-applied-configuration":{}}}})"));
  EXPECT_EQ((*FindEntry(updated, "kubectl"))["fieldsV1"], (*FindEntry(live, "kubectl"))["fieldsV1"]);

  // The same pair again changes nothing.
  Json again = MustApply(updated, R"({"apiVersion":"apps.kubeblocks.io/v1alpha1","kind":"Cluster",
      "metadata":{"name":"mycluster","namespace":"demo","annotations":
        {"kubectl.kubernetes.io/last-applied-configuration":"{}"}}})", Options("kubectl-last-applied", kT1));
  EXPECT_EQ(again, updated);
}

TEST(ServerSideApply, UnchangedApplyKeepsTimestamp) {
  const char* body = R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"x":"1"}})";
  Json live = MustApply(Json(), body, Options("kubectl", kT0));
  Json again = MustApply(live, body, Options("kubectl", kT1));
  EXPECT_EQ(again, live);
}

TEST(ServerSideApply, AtomicListIsReplacedAndOwnedWhole) {
  Json live = MustApply(Json(), R"({"kind":"Pod","metadata":{"name":"p"},"spec":{"tolerations":[{"key":"a"},{"key":"b"}]}})",
                        Options("kubectl"));
  Json updated = MustApply(live, R"({"kind":"Pod","metadata":{"name":"p"},"spec":{"tolerations":[{"key":"c"}]}})",
                           Options("kubectl"));
  EXPECT_EQ(updated["spec"]["tolerations"], Parse(R"([{"key":"c"}])"));
  EXPECT_EQ((*FindEntry(updated, "kubectl"))["fieldsV1"], Parse(R"({"f:spec":{"f:tolerations":{}}})"));
}

TEST(ServerSideApply, FinalizersMergeAsSet) {
  Json live = MustApply(Json(), R"({"kind":"ConfigMap","metadata":{"name":"c","finalizers":["a"]}})", Options("one"));
  Json updated = MustApply(live, R"({"kind":"ConfigMap","metadata":{"name":"c","finalizers":["b"]}})", Options("two"));
  EXPECT_EQ(updated["metadata"]["finalizers"], Parse(R"(["a","b"])"));
  EXPECT_EQ((*FindEntry(updated, "two"))["fieldsV1"], Parse(R"({"f:metadata":{"f:finalizers":{"v:\"b\"":{}}}})"));

  Json released = MustApply(updated, R"({"kind":"ConfigMap","metadata":{"name":"c"}})", Options("one"));
  EXPECT_EQ(released["metadata"]["finalizers"], Parse(R"(["b"])"));
}

TEST(ServerSideApply, KeepsElementPartlyOwnedByOther) {
  Json live = MustApply(Json(), R"({"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"a:1"}]}})",
                        Options("one"));
  live = MustApply(live, R"({"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","resources":{"limits":{"cpu":"1"}}}]}})",
                   Options("two"));
  Json updated = MustApply(live, R"({"kind":"Pod","metadata":{"name":"p"},"spec":{}})", Options("one"));
  EXPECT_EQ(updated["spec"]["containers"], Parse(R"([{"name":"a","resources":{"limits":{"cpu":"1"}}}])"));
}

TEST(ServerSideApply, IgnoresServerSetMetadata) {
  Json live = MustApply(Json(), R"({"kind":"ConfigMap","metadata":{"name":"c"}})", Options("kubectl"));
  live["metadata"]["uid"] = "u1";
  live["metadata"]["resourceVersion"] = "7";
  Json updated = MustApply(live, R"({"kind":"ConfigMap","metadata":{"name":"c","uid":"other","resourceVersion":"1"}})",
                           Options("kubectl"));
  EXPECT_EQ(updated["metadata"]["uid"], "u1");
  EXPECT_EQ(updated["metadata"]["resourceVersion"], "7");
}

TEST(ServerSideApply, RejectsMalformedBodies) {
  const char* bodies[] = {
      R"([1])",
      R"({"kind":"ConfigMap","metadata":{"name":"c","managedFields":[{"manager":"x"}]}})",
      R"({"kind":"Secret","metadata":{"name":"c"}})",
      R"({"kind":"ConfigMap","metadata":{"name":"c","ownerReferences":[{"name":"no-uid"}]}})",
      R"({"kind":"ConfigMap","metadata":{"name":"c","finalizers":["a","a"]}})",
      R"({"kind":"ConfigMap","metadata":"c"})",
  };
  Json live = MustApply(Json(), R"({"kind":"ConfigMap","metadata":{"name":"c"}})", Options("kubectl"));
  for (const char* body : bodies) {
    Result<Json> result = ApplyServerSide(live, Parse(body), Options("kubectl"));
    ASSERT_FALSE(result.ok()) << body;
    EXPECT_EQ(result.status().code(), StatusCode::kBadRequest) << body;
  }
}

TEST(ServerSideApply, DropsUndecodableManagedFields) {
  Json live = Parse(R"({"kind":"ConfigMap","metadata":{"name":"c","managedFields":[
      {"manager":"x","operation":"Apply","fieldsV1":{"bad":{}}}, 7]},"data":{"a":"1"}})");
  Json updated = MustApply(live, R"({"kind":"ConfigMap","metadata":{"name":"c"},"data":{"b":"2"}})", Options("kubectl"));
  EXPECT_EQ(updated["data"], Parse(R"({"a":"1","b":"2"})"));
  EXPECT_EQ(updated["metadata"]["managedFields"].size(), 1u);
}

}  // namespace
}  // namespace xblocks::api
