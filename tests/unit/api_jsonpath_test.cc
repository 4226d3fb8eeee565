#include "api/jsonpath.h"

#include <gtest/gtest.h>

namespace xblocks::api {
namespace {

const Json kDoc = Json::parse(R"({
  "metadata": {"name": "c1", "labels": {"app.kubernetes.io/name": "x"}},
  "spec": {
    "componentDefs": [{"name": "xinference", "replicas": 1}, {"name": "worker", "replicas": 3}],
    "terminationPolicy": "Delete"
  },
  "status": {
    "phase": "Running",
    "readyReplicas": 2,
    "membersStatus": [
      {"podName": "c1-0", "role": {"name": "follower", "isLeader": false}},
      {"podName": "c1-1", "role": {"name": "leader", "isLeader": true}},
      {"podName": "c1-2"}
    ],
    "conditions": [
      {"type": "Ready", "status": "True", "count": 5},
      {"type": "Synced", "status": "False", "count": 1.5}
    ]
  }
})");

std::vector<Json> Eval(std::string_view path) { return EvalJsonPath(kDoc, path); }

TEST(JsonPath, SimpleFields) {
  EXPECT_EQ(Eval(".status.phase"), std::vector<Json>{"Running"});
  EXPECT_EQ(Eval(".spec.terminationPolicy"), std::vector<Json>{"Delete"});
  EXPECT_EQ(Eval(".status.readyReplicas"), std::vector<Json>{2});
}

TEST(JsonPath, BracesAndDollarAreOptional) {
  EXPECT_EQ(Eval("{.status.phase}"), std::vector<Json>{"Running"});
  EXPECT_EQ(Eval("$.status.phase"), std::vector<Json>{"Running"});
  EXPECT_EQ(Eval("{$.status.phase}"), std::vector<Json>{"Running"});
}

TEST(JsonPath, ArrayIndex) {
  EXPECT_EQ(Eval(".spec.componentDefs[0].name"), std::vector<Json>{"xinference"});
  EXPECT_EQ(Eval(".spec.componentDefs[1].replicas"), std::vector<Json>{3});
  EXPECT_EQ(Eval(".spec.componentDefs[-1].name"), std::vector<Json>{"worker"});
  EXPECT_TRUE(Eval(".spec.componentDefs[2].name").empty());
  EXPECT_TRUE(Eval(".spec.componentDefs[-3].name").empty());
}

TEST(JsonPath, Wildcards) {
  EXPECT_EQ(Eval(".spec.componentDefs[*].name"), (std::vector<Json>{"xinference", "worker"}));
  EXPECT_EQ(Eval(".status.membersStatus[*].role.name"), (std::vector<Json>{"follower", "leader"}));
  EXPECT_EQ(Eval(".metadata.labels.*"), std::vector<Json>{"x"});
}

TEST(JsonPath, Slices) {
  EXPECT_EQ(Eval(".status.membersStatus[0:2].podName"), (std::vector<Json>{"c1-0", "c1-1"}));
  EXPECT_EQ(Eval(".status.membersStatus[1:].podName"), (std::vector<Json>{"c1-1", "c1-2"}));
  EXPECT_EQ(Eval(".status.membersStatus[:1].podName"), std::vector<Json>{"c1-0"});
  EXPECT_EQ(Eval(".status.membersStatus[-1:].podName"), std::vector<Json>{"c1-2"});
  EXPECT_TRUE(Eval(".status.membersStatus[5:9]").empty());
}

TEST(JsonPath, QuotedFieldNames) {
  EXPECT_EQ(Eval(".metadata.labels['app.kubernetes.io/name']"), std::vector<Json>{"x"});
  EXPECT_EQ(Eval(".metadata.labels[\"app.kubernetes.io/name\"]"), std::vector<Json>{"x"});
}

TEST(JsonPath, FilterOnNestedBoolean) {
  EXPECT_EQ(Eval(".status.membersStatus[?(@.role.isLeader==true)].podName"), std::vector<Json>{"c1-1"});
  EXPECT_EQ(Eval(".status.membersStatus[?(@.role.isLeader==false)].podName"), std::vector<Json>{"c1-0"});
  EXPECT_EQ(Eval(".status.membersStatus[?(@.role.isLeader!=true)].podName"), std::vector<Json>{"c1-0"});
}

TEST(JsonPath, FilterOnString) {
  EXPECT_EQ(Eval(".spec.componentDefs[?(@.name==\"worker\")].replicas"), std::vector<Json>{3});
  EXPECT_EQ(Eval(".spec.componentDefs[?(@.name=='worker')].replicas"), std::vector<Json>{3});
  EXPECT_EQ(Eval(".status.conditions[?(@.type==\"Ready\")].status"), std::vector<Json>{"True"});
  EXPECT_EQ(Eval(".status.conditions[?( @.type == 'Synced' )].status"), std::vector<Json>{"False"});
}

TEST(JsonPath, FilterNumericComparisons) {
  EXPECT_EQ(Eval(".spec.componentDefs[?(@.replicas>1)].name"), std::vector<Json>{"worker"});
  EXPECT_EQ(Eval(".spec.componentDefs[?(@.replicas<=1)].name"), std::vector<Json>{"xinference"});
  EXPECT_EQ(Eval(".status.conditions[?(@.count>=1.5)].type"), (std::vector<Json>{"Ready", "Synced"}));
  EXPECT_EQ(Eval(".status.conditions[?(@.count<2)].type"), std::vector<Json>{"Synced"});
}

TEST(JsonPath, FilterExistence) {
  EXPECT_EQ(Eval(".status.membersStatus[?(@.role)].podName"), (std::vector<Json>{"c1-0", "c1-1"}));
}

TEST(JsonPath, FilterIncompatibleTypesNeverMatch) {
  EXPECT_TRUE(Eval(".status.membersStatus[?(@.role.isLeader==\"true\")].podName").empty());
  EXPECT_TRUE(Eval(".status.membersStatus[?(@.role.isLeader!=\"true\")].podName").empty());
  EXPECT_TRUE(Eval(".spec.componentDefs[?(@.name>1)].name").empty());
}

TEST(JsonPath, FilterComparingTwoPaths) {
  Json doc = Json::parse(R"({"items": [{"a": 1, "b": 1, "n": "x"}, {"a": 1, "b": 2, "n": "y"}]})");
  EXPECT_EQ(EvalJsonPath(doc, ".items[?(@.a==@.b)].n"), std::vector<Json>{"x"});
}

TEST(JsonPath, MissingPathsGiveNothing) {
  EXPECT_TRUE(Eval(".status.missing").empty());
  EXPECT_TRUE(Eval(".status.phase.deeper").empty());
  EXPECT_TRUE(Eval(".spec.componentDefs.name").empty());  // field on an array
  EXPECT_TRUE(Eval(".status.phase[0]").empty());           // index on a string
  EXPECT_TRUE(Eval(".status[?(@.x==1)]").empty());         // filter on an object
  EXPECT_TRUE(EvalJsonPath(Json(), ".a").empty());
}

TEST(JsonPath, ReturnsObjectsAndArrays) {
  std::vector<Json> result = Eval(".spec.componentDefs[0]");
  ASSERT_EQ(result.size(), 1u);
  EXPECT_EQ(result[0], Json({{"name", "xinference"}, {"replicas", 1}}));
  EXPECT_EQ(Eval(".")[0], kDoc);
}

TEST(JsonPath, RejectsMalformed) {
  for (const char* path : {"", "status.phase", ".a[", ".a[0", ".a[x]", ".a[]", ".a[?(@.x==1]",
                           ".a[?(x==1)]", ".a[?(@.x=1)]", ".a[?(@.x==)]", "..a", ".a..b", ".a['b",
                           ".a[?(@.x==1) ]", ".a b", "{.a", ".a[?(@.x==bare)]", ".a[99999999999999999999]"}) {
    Result<JsonPath> parsed = ParseJsonPath(path);
    EXPECT_FALSE(parsed.ok()) << "accepted \"" << path << "\"";
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kBadRequest) << path;
    }
    EXPECT_TRUE(EvalJsonPath(kDoc, path).empty()) << path;
  }
}

TEST(JsonPath, ParsedPathIsReusable) {
  Result<JsonPath> parsed = ParseJsonPath(".metadata.name");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Eval(kDoc), std::vector<Json>{"c1"});
  EXPECT_EQ(parsed->Eval(Json{{"metadata", {{"name", "other"}}}}), std::vector<Json>{"other"});
  ASSERT_EQ(parsed->Select(kDoc).size(), 1u);
  EXPECT_EQ(parsed->Select(kDoc)[0], &kDoc["metadata"]["name"]);
}

}  // namespace
}  // namespace xblocks::api
