#include <gtest/gtest.h>

#include "api/list_strategy.h"
#include "api/patch.h"

namespace xblocks::api {
namespace {

Json Parse(const char* text) { return Json::parse(text); }

// {"a":{"a":{...}}} nested `depth` maps deep.
Json DeepMap(int depth) {
  Json root = Json::object();
  Json* node = &root;
  for (int i = 0; i < depth; ++i) node = &(*node)["a"];
  *node = Json::object();
  return root;
}

// ---- RFC 7386 merge patch ----

TEST(MergePatch, NullRemovesKey) {
  Json original = Parse(R"({"data":{"a":"1","b":"2"},"kind":"ConfigMap"})");
  Result<Json> result = ApplyMergePatch(original, Parse(R"({"data":{"a":"10","b":null,"c":"3"}})"));
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"data":{"a":"10","c":"3"},"kind":"ConfigMap"})"));
}

TEST(MergePatch, ReplacesListsWhole) {
  Json original = Parse(R"({"spec":{"list":[1,2,3]}})");
  Result<Json> result = ApplyMergePatch(original, Parse(R"({"spec":{"list":[4]}})"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, Parse(R"({"spec":{"list":[4]}})"));
}

TEST(MergePatch, RejectsNonObjectPatch) {
  for (const char* patch : {"[]", "\"x\"", "3", "null"}) {
    Result<Json> result = ApplyMergePatch(Parse("{}"), Parse(patch));
    ASSERT_FALSE(result.ok()) << patch;
    EXPECT_EQ(result.status().code(), StatusCode::kBadRequest) << patch;
    EXPECT_NE(result.status().message().find("must be a JSON object"), std::string::npos);
  }
}

TEST(MergePatch, RejectsDeepNesting) {
  Json patch = DeepMap(kMaxPatchDepth + 5);
  Result<Json> result = ApplyMergePatch(Json::object(), patch);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kBadRequest);
}

// ---- RFC 6902 JSON patch ----

Result<Json> JsonPatch(const char* original, const char* patch) {
  return ApplyJsonPatch(Parse(original), Parse(patch));
}

TEST(JsonPatch, AddSetsFieldsAndInsertsIntoLists) {
  Result<Json> result = JsonPatch(R"({"spec":{"l":[1,3]}})",
                                  R"([{"op":"add","path":"/spec/x","value":{"y":1}},
                                      {"op":"add","path":"/spec/l/1","value":2},
                                      {"op":"add","path":"/spec/l/-","value":4},
                                      {"op":"add","path":"/spec/l/4","value":5}])");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"l":[1,2,3,4,5],"x":{"y":1}}})"));
}

TEST(JsonPatch, RemoveReplaceMoveCopyTest) {
  Result<Json> result = JsonPatch(R"({"a":1,"b":{"c":[1,2,3]},"d":"x"})",
                                  R"([{"op":"test","path":"/d","value":"x"},
                                      {"op":"remove","path":"/b/c/0"},
                                      {"op":"replace","path":"/a","value":"one"},
                                      {"op":"move","from":"/d","path":"/b/d"},
                                      {"op":"copy","from":"/b/c","path":"/e"}])");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"a":"one","b":{"c":[2,3],"d":"x"},"e":[2,3]})"));
}

TEST(JsonPatch, UnescapesPointerTokens) {
  Result<Json> result = JsonPatch(R"({"metadata":{"labels":{"app.kubernetes.io/name":"a","t~x":"b"}}})",
                                  R"([{"op":"replace","path":"/metadata/labels/app.kubernetes.io~1name","value":"z"},
                                      {"op":"remove","path":"/metadata/labels/t~0x"}])");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"metadata":{"labels":{"app.kubernetes.io/name":"z"}}})"));
}

TEST(JsonPatch, EmptyPathReplacesDocument) {
  Result<Json> result = JsonPatch(R"({"a":1})", R"([{"op":"replace","path":"","value":{"b":2}}])");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"b":2})"));
}

TEST(JsonPatch, TestOfMissingPathFails) {
  Result<Json> result = JsonPatch(R"({"spec":{}})", R"([{"op":"test","path":"/spec/foo","value":1}])");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(result.status().message(),
            "jsonpatch test operation does not apply: doc is missing path: \"/spec/foo\"");
}

TEST(JsonPatch, TestOfDifferentValueFails) {
  Result<Json> result = JsonPatch(R"({"spec":{"x":"a"}})", R"([{"op":"test","path":"/spec/x","value":"b"}])");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalid);
  EXPECT_EQ(result.status().message(),
            "jsonpatch test operation does not apply: value at \"/spec/x\" is \"a\", expected \"b\"");
}

TEST(JsonPatch, TestMessageSurvivesInvalidUtf8) {
  Json original = {{"x", "\xff"}};
  Result<Json> result = ApplyJsonPatch(original, Parse(R"([{"op":"test","path":"/x","value":"a"}])"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalid);
}

TEST(JsonPatch, MissingPathsFail) {
  const char* cases[] = {
      R"([{"op":"remove","path":"/spec/x"}])",
      R"([{"op":"replace","path":"/spec/x","value":1}])",
      R"([{"op":"add","path":"/nope/x","value":1}])",
      R"([{"op":"move","from":"/nope","path":"/a"}])",
      R"([{"op":"copy","from":"/nope","path":"/a"}])",
      R"([{"op":"remove","path":"/spec/l/2"}])",
      R"([{"op":"add","path":"/spec/l/3","value":1}])",
      R"([{"op":"remove","path":"/spec/l/01"}])",
  };
  for (const char* patch : cases) {
    Result<Json> result = JsonPatch(R"({"spec":{"l":[1,2]}})", patch);
    ASSERT_FALSE(result.ok()) << patch;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalid) << patch;
    EXPECT_NE(result.status().message().find("does not apply"), std::string::npos) << result.status().message();
  }
}

TEST(JsonPatch, MissingPathMessageNamesOpAndPath) {
  Result<Json> result = JsonPatch(R"({"spec":{}})", R"([{"op":"remove","path":"/spec/x"}])");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(),
            "jsonpatch remove operation does not apply: doc is missing path: \"/spec/x\"");
}

TEST(JsonPatch, MoveIntoOwnChildFails) {
  Result<Json> result = JsonPatch(R"({"a":{"b":1}})", R"([{"op":"move","from":"/a","path":"/a/c"}])");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalid);
}

TEST(JsonPatch, MalformedPatchesAreBadRequests) {
  const char* cases[] = {
      R"({"op":"add"})",
      R"(["add"])",
      R"([{"path":"/a","value":1}])",
      R"([{"op":"frobnicate","path":"/a"}])",
      R"([{"op":"add","path":"/a"}])",
      R"([{"op":"add","path":"a","value":1}])",
      R"([{"op":"add","path":"/a~2","value":1}])",
      R"([{"op":"move","path":"/a"}])",
      R"([{"op":"add","path":5,"value":1}])",
  };
  for (const char* patch : cases) {
    Result<Json> result = JsonPatch(R"({"a":1})", patch);
    ASSERT_FALSE(result.ok()) << patch;
    EXPECT_EQ(result.status().code(), StatusCode::kBadRequest) << patch;
  }
}

TEST(JsonPatch, FailureLeavesNoPartialResult) {
  Json original = Parse(R"({"a":1})");
  Result<Json> result = ApplyJsonPatch(original, Parse(R"([{"op":"replace","path":"/a","value":2},
                                                          {"op":"test","path":"/a","value":1}])"));
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(original, Parse(R"({"a":1})"));
}

// ---- merge-key table ----

TEST(ListStrategy, FindsKeysByPath) {
  EXPECT_EQ(FindListRule({"spec", "containers"}).merge_key, "name");
  EXPECT_EQ(FindListRule({"spec", "template", "spec", "containers", "env"}).merge_key, "name");
  EXPECT_EQ(FindListRule({"spec", "jobTemplate", "spec", "template", "spec", "initContainers",
                          "ports"}).merge_key, "containerPort");
  EXPECT_EQ(FindListRule({"spec", "containers", "volumeMounts"}).merge_key, "mountPath");
  EXPECT_EQ(FindListRule({"spec", "ports"}).merge_key, "port");
  EXPECT_EQ(FindListRule({"metadata", "ownerReferences"}).merge_key, "uid");
  EXPECT_EQ(FindListRule({"metadata", "finalizers"}).strategy, ListStrategy::kSet);
  EXPECT_EQ(FindListRule({"spec", "template", "metadata", "finalizers"}).strategy, ListStrategy::kSet);
  EXPECT_EQ(FindListRule({"secrets"}).merge_key, "name");
  EXPECT_EQ(FindListRule({"spec", "tolerations"}).strategy, ListStrategy::kAtomic);
  EXPECT_EQ(FindListRule({"rules"}).strategy, ListStrategy::kAtomic);
  EXPECT_EQ(FindListRule({"subjects"}).strategy, ListStrategy::kAtomic);
  EXPECT_EQ(FindListRule({"spec", "componentSpecs"}).strategy, ListStrategy::kAtomic);
  EXPECT_EQ(FindListRule({"spec", "template", "containers"}).strategy, ListStrategy::kAtomic);
}

// ---- strategic merge patch ----

Result<Json> Strategic(const Json& original, const char* patch, std::string_view kind) {
  return ApplyStrategicMergePatch(original, Parse(patch), kind);
}

TEST(StrategicMergePatch, ConfigMapDataFromKubectlApply) {
  Json original = Parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","annotations":
      {"kubectl.kubernetes.io/last-applied-configuration":"old"}},"data":{"a":"1","b":"2"}})");
  Result<Json> result = Strategic(original,
      R"({"data":{"a":"10","b":null,"c":"3"}, "metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"…"}}})",
      "ConfigMap");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","annotations":
      {"kubectl.kubernetes.io/last-applied-configuration":"…"}},"data":{"a":"10","c":"3"}})"));
}

TEST(StrategicMergePatch, ServicePortsWithOrderAndDelete) {
  Json original = Parse(R"({"kind":"Service","spec":{"selector":{"app":"x"},"ports":[
      {"name":"http","port":80,"protocol":"TCP","targetPort":8080},
      {"name":"metrics","port":90,"protocol":"TCP","targetPort":9090}]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"$setElementOrder/ports":[{"port":91}],
         "ports":[{"name":"grpc","port":91},{"$patch":"delete","port":80},{"$patch":"delete","port":90}]}})",
      "Service");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"kind":"Service","spec":{"selector":{"app":"x"},"ports":[{"name":"grpc","port":91}]}})"));
}

TEST(StrategicMergePatch, SetElementOrderReordersMergedList) {
  Json original = Parse(R"({"spec":{"ports":[{"port":80},{"port":90}]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"$setElementOrder/ports":[{"port":91},{"port":90},{"port":80}],"ports":[{"port":91}]}})",
      "Service");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"ports":[{"port":91},{"port":90},{"port":80}]}})"));
}

TEST(StrategicMergePatch, PodContainersMergeByName) {
  Json original = Parse(R"({"kind":"Pod","spec":{"containers":[
      {"name":"app","image":"app:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
      {"name":"sidecar","image":"side:1"}]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"containers":[{"name":"app","image":"app:2","env":[{"name":"B","value":"20"},{"name":"C","value":"3"}]},
                               {"name":"new","image":"new:1"}]}})",
      "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"kind":"Pod","spec":{"containers":[
      {"name":"app","image":"app:2","env":[{"name":"A","value":"1"},{"name":"B","value":"20"},{"name":"C","value":"3"}]},
      {"name":"sidecar","image":"side:1"},
      {"name":"new","image":"new:1"}]}})"));
}

TEST(StrategicMergePatch, DeploymentTemplateContainersMergeByName) {
  Json original = Parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}}}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"template":{"spec":{"containers":[{"name":"b","image":"b:2"}]}}}})", "Deployment");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"template":{"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:2"}]}}}})"));
}

TEST(StrategicMergePatch, ContainerPortsMergeByContainerPort) {
  Json original = Parse(R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"name":"http"}]}]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}]}]}})", "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]}]}})"));
}

TEST(StrategicMergePatch, FinalizersMergeAsSet) {
  Json original = Parse(R"({"metadata":{"finalizers":["a","b"]}})");
  Result<Json> result = Strategic(original, R"({"metadata":{"finalizers":["b","c"]}})", "ConfigMap");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"metadata":{"finalizers":["a","b","c"]}})"));
}

TEST(StrategicMergePatch, DeleteFromPrimitiveList) {
  Json original = Parse(R"({"metadata":{"finalizers":["a","b","c"]}})");
  Result<Json> result = Strategic(original,
      R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"],"finalizers":["d"]}})", "ConfigMap");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"metadata":{"finalizers":["a","c","d"]}})"));
}

TEST(StrategicMergePatch, SetElementOrderOnPrimitiveList) {
  Json original = Parse(R"({"metadata":{"finalizers":["a","b"]}})");
  Result<Json> result = Strategic(original,
      R"({"metadata":{"$setElementOrder/finalizers":["c","b","a"],"finalizers":["c"]}})", "ConfigMap");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"metadata":{"finalizers":["c","b","a"]}})"));
}

TEST(StrategicMergePatch, ListWithoutMergeKeyIsReplaced) {
  Json original = Parse(R"({"spec":{"tolerations":[{"key":"a","operator":"Exists"}],"args":["x","y"]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}],"args":["z"]}})", "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}],"args":["z"]}})"));
}

TEST(StrategicMergePatch, ReplaceDirectiveOnMap) {
  Json original = Parse(R"({"spec":{"selector":{"a":"1","b":"2"}}})");
  Result<Json> result = Strategic(original, R"({"spec":{"selector":{"$patch":"replace","c":"3"}}})", "Service");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"selector":{"c":"3"}}})"));
}

TEST(StrategicMergePatch, DeleteDirectiveOnMap) {
  Json original = Parse(R"({"spec":{"selector":{"a":"1"},"type":"ClusterIP"}})");
  Result<Json> result = Strategic(original, R"({"spec":{"selector":{"$patch":"delete"}}})", "Service");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"type":"ClusterIP"}})"));
}

TEST(StrategicMergePatch, ReplaceDirectiveOnListElement) {
  Json original = Parse(R"({"spec":{"containers":[{"name":"a","image":"a:1","command":["x"]}]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"containers":[{"$patch":"replace","name":"a","image":"a:2"}]}})", "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"containers":[{"name":"a","image":"a:2"}]}})"));
}

TEST(StrategicMergePatch, ReplaceDirectiveOnWholeList) {
  Json original = Parse(R"({"spec":{"containers":[{"name":"a"},{"name":"b"}]}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"containers":[{"name":"c"},{"$patch":"replace"}]}})", "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"containers":[{"name":"c"}]}})"));
}

TEST(StrategicMergePatch, RetainKeysDropsOtherKeys) {
  Json original = Parse(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})", "Deployment");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"strategy":{"type":"Recreate"}}})"));
}

TEST(StrategicMergePatch, RetainKeysMustListPatchedKeys) {
  Json original = Parse(R"({"spec":{"strategy":{}}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{}}}})", "Deployment");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kBadRequest);
}

TEST(StrategicMergePatch, NewListElementLosesDirectives) {
  Json original = Parse(R"({"spec":{}})");
  Result<Json> result = Strategic(original,
      R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"},{"$patch":"delete","name":"Y"}]}]}})", "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"spec":{"containers":[{"name":"a","env":[{"name":"X","value":"1"}]}]}})"));
}

TEST(StrategicMergePatch, OwnerReferencesMergeByUid) {
  Json original = Parse(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]}})");
  Result<Json> result = Strategic(original,
      R"({"metadata":{"ownerReferences":[{"uid":"2","name":"b"},{"uid":"1","controller":true}]}})", "Pod");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"metadata":{"ownerReferences":[{"uid":"1","name":"a","controller":true},{"uid":"2","name":"b"}]}})"));
}

TEST(StrategicMergePatch, RejectsElementWithoutMergeKey) {
  Json original = Parse(R"({"spec":{"containers":[{"name":"a"}]}})");
  Result<Json> result = Strategic(original, R"({"spec":{"containers":[{"image":"x"}]}})", "Pod");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kBadRequest);
  EXPECT_NE(result.status().message().find("spec.containers"), std::string::npos) << result.status().message();
  EXPECT_NE(result.status().message().find("\"name\""), std::string::npos);
}

TEST(StrategicMergePatch, RejectsUnknownDirectives) {
  for (const char* patch : {R"({"spec":{"$patch":"explode"}})", R"({"spec":{"$frob":1}})",
                            R"({"spec":{"$patch":3}})", R"({"spec":{"$setElementOrder/ports":{}}})",
                            R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}})"}) {
    Result<Json> result = Strategic(Parse(R"({"spec":{}})"), patch, "Service");
    ASSERT_FALSE(result.ok()) << patch;
    EXPECT_EQ(result.status().code(), StatusCode::kBadRequest) << patch;
  }
}

TEST(StrategicMergePatch, RejectsNonObjectPatch) {
  Result<Json> result = Strategic(Parse("{}"), "[1]", "Pod");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kBadRequest);
}

TEST(StrategicMergePatch, RejectsDeepNesting) {
  Json patch = DeepMap(kMaxPatchDepth + 5);
  Result<Json> result = ApplyStrategicMergePatch(Json::object(), patch, "ConfigMap");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kBadRequest);
}

TEST(StrategicMergePatch, TypeChangeReplacesValue) {
  Json original = Parse(R"({"data":"scalar","spec":{"x":[1]}})");
  Result<Json> result = Strategic(original, R"({"data":{"a":"1"},"spec":{"x":{"y":2}}})", "ConfigMap");
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(*result, Parse(R"({"data":{"a":"1"},"spec":{"x":{"y":2}}})"));
}

}  // namespace
}  // namespace xblocks::api
