#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "api/openapi.h"
#include "api/scheme.h"

namespace xblocks::api {
namespace {

const Scheme& LoadedScheme() {
  static const Scheme scheme = [] {
    Result<Scheme> loaded = Scheme::Load();
    EXPECT_TRUE(loaded.ok()) << loaded.status().message();
    return loaded.ok() ? std::move(*loaded) : Scheme();
  }();
  return scheme;
}

Json Document(const std::string& path) {
  Result<Json> document = OpenApiV3Document(LoadedScheme(), path);
  EXPECT_TRUE(document.ok()) << path << ": " << document.status().message();
  return document.ok() ? *document : Json::object();
}

const std::vector<std::string> kGroupVersions = {"api/v1", "apis/apps.kubeblocks.io/v1alpha1",
                                                 "apis/workloads.kubeblocks.io/v1alpha1",
                                                 "apis/rbac.authorization.k8s.io/v1"};

void CollectRefs(const Json& node, std::vector<std::string>& refs) {
  if (node.is_object()) {
    for (const auto& [key, child] : node.items()) {
      if (key == "$ref" && child.is_string()) refs.push_back(child);
      CollectRefs(child, refs);
    }
  } else if (node.is_array()) {
    for (const Json& child : node) CollectRefs(child, refs);
  }
}

TEST(OpenApi, RootListsEveryGroupVersion) {
  Json root = OpenApiV3Root(LoadedScheme());
  for (const std::string& gv : kGroupVersions) {
    ASSERT_TRUE(root["paths"].contains(gv)) << gv;
    std::string url = root["paths"][gv]["serverRelativeURL"];
    EXPECT_EQ(url.rfind("/openapi/v3/" + gv + "?hash=", 0), 0u) << url;
    EXPECT_GT(url.size(), ("/openapi/v3/" + gv + "?hash=").size()) << "hash missing in " << url;
  }
}

TEST(OpenApi, HashTracksDocument) {
  Json document = Document("apis/apps.kubeblocks.io/v1alpha1");
  std::string hash = OpenApiV3Hash(document);
  EXPECT_EQ(hash, OpenApiV3Hash(Document("apis/apps.kubeblocks.io/v1alpha1")));
  document["info"]["version"] = "changed";
  EXPECT_NE(hash, OpenApiV3Hash(document));
}

TEST(OpenApi, UnknownGroupVersionNotFound) {
  EXPECT_EQ(OpenApiV3Document(LoadedScheme(), "apis/nope.io/v1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(OpenApiV3Document(LoadedScheme(), "garbage").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(OpenApiV3Document(LoadedScheme(), "apis/").status().code(), StatusCode::kNotFound);
}

TEST(OpenApi, LeadingSlashAccepted) {
  EXPECT_TRUE(OpenApiV3Document(LoadedScheme(), "/api/v1").ok());
}

TEST(OpenApi, EveryPatchHasGvkAndFieldValidation) {
  for (const std::string& gv : kGroupVersions) {
    Json document = Document(gv);
    int patches = 0;
    for (const auto& [path, item] : document["paths"].items()) {
      if (!item.contains("patch")) continue;
      ++patches;
      const Json& patch = item["patch"];
      ASSERT_TRUE(patch["x-kubernetes-group-version-kind"].is_object()) << path;
      EXPECT_TRUE(patch["x-kubernetes-group-version-kind"].contains("kind")) << path;
      std::set<std::string> names;
      for (const Json& parameter : patch["parameters"]) names.insert(parameter["name"]);
      for (const char* name : {"fieldValidation", "fieldManager", "dryRun", "force"}) {
        EXPECT_EQ(names.count(name), 1u) << path << " lacks " << name;
      }
      const Json& content = patch["requestBody"]["content"];
      EXPECT_TRUE(content.contains("application/apply-patch+yaml")) << path;
      EXPECT_TRUE(content.contains("application/json-patch+json")) << path;
      EXPECT_TRUE(content.contains("application/merge-patch+json")) << path;
    }
    EXPECT_GT(patches, 0) << gv;
  }
}

TEST(OpenApi, NoStrategicMergeAnywhere) {
  for (const std::string& gv : kGroupVersions) {
    EXPECT_EQ(Document(gv).dump().find("strategic-merge-patch"), std::string::npos) << gv;
  }
}

TEST(OpenApi, EveryRefResolves) {
  for (const std::string& gv : kGroupVersions) {
    Json document = Document(gv);
    std::vector<std::string> refs;
    CollectRefs(document, refs);
    EXPECT_FALSE(refs.empty());
    for (const std::string& ref : refs) {
      const std::string prefix = "#/components/schemas/";
      ASSERT_EQ(ref.rfind(prefix, 0), 0u) << ref;
      EXPECT_TRUE(document["components"]["schemas"].contains(ref.substr(prefix.size()))) << gv << ": " << ref;
    }
  }
}

TEST(OpenApi, ClusterSchemaForExplain) {
  Json document = Document("apis/apps.kubeblocks.io/v1alpha1");
  const Json& cluster = document["components"]["schemas"]["io.kubeblocks.apps.v1alpha1.Cluster"];
  ASSERT_TRUE(cluster.is_object());
  EXPECT_EQ(cluster["x-kubernetes-group-version-kind"],
            Json::parse(R"([{"group":"apps.kubeblocks.io","version":"v1alpha1","kind":"Cluster"}])"));
  const Json& policy = cluster["properties"]["spec"]["properties"]["terminationPolicy"];
  EXPECT_EQ(policy["enum"], Json::parse(R"(["DoNotTerminate","Halt","Delete","WipeOut"])"));
  EXPECT_TRUE(policy["description"].is_string());
  EXPECT_EQ(cluster["properties"]["metadata"]["allOf"][0]["$ref"],
            "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_TRUE(cluster["properties"]["apiVersion"]["description"].is_string());
}

TEST(OpenApi, ClusterPathsComplete) {
  Json paths = Document("apis/apps.kubeblocks.io/v1alpha1")["paths"];
  const std::string base = "/apis/apps.kubeblocks.io/v1alpha1/namespaces/{namespace}/clusters";
  ASSERT_TRUE(paths.contains(base));
  EXPECT_TRUE(paths[base].contains("get"));
  EXPECT_TRUE(paths[base].contains("post"));
  for (const char* method : {"get", "put", "patch", "delete"}) {
    EXPECT_TRUE(paths[base + "/{name}"].contains(method)) << method;
  }
  for (const char* method : {"get", "put", "patch"}) {
    EXPECT_TRUE(paths[base + "/{name}/status"].contains(method)) << method;
  }
  EXPECT_TRUE(paths.contains("/apis/apps.kubeblocks.io/v1alpha1/clusterdefinitions/{name}"));
}

TEST(OpenApi, CoreSchemasNamed) {
  Json schemas = Document("api/v1")["components"]["schemas"];
  EXPECT_TRUE(schemas.contains("io.k8s.api.core.v1.Namespace"));
  EXPECT_TRUE(schemas.contains("io.k8s.api.core.v1.Pod"));
  EXPECT_TRUE(schemas["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]["properties"]["name"]["description"]
                  .is_string());
  EXPECT_TRUE(Document("apis/rbac.authorization.k8s.io/v1")["components"]["schemas"].contains(
      "io.k8s.api.rbac.v1.Role"));
}

TEST(OpenApi, OperationIdsUnique) {
  for (const std::string& gv : kGroupVersions) {
    std::set<std::string> ids;
    for (const auto& [path, item] : Document(gv)["paths"].items()) {
      for (const auto& [method, operation] : item.items()) {
        if (method == "parameters") continue;
        EXPECT_TRUE(ids.insert(operation["operationId"].get<std::string>()).second)
            << operation["operationId"];
      }
    }
  }
}

}  // namespace
}  // namespace xblocks::api
