// The request mappers on well-formed and malformed objects.
#include <gtest/gtest.h>

#include "controllers/request_mappers.h"

namespace xblocks::controllers {
namespace {

using Requests = std::vector<Request>;

Json Owned(const Json& owner_references) {
  return {{"metadata", {{"name", "pod-0"}, {"namespace", "demo"}, {"ownerReferences", owner_references}}}};
}

TEST(ObjectKeyMapper, MapsToOwnKey) {
  EXPECT_EQ(ObjectKeyMapper()({{"metadata", {{"name", "a"}, {"namespace", "demo"}}}}), (Requests{{"demo", "a"}}));
  EXPECT_EQ(ObjectKeyMapper()({{"metadata", {{"name", "node-1"}}}}), (Requests{{"", "node-1"}}));
}

TEST(ObjectKeyMapper, IgnoresObjectsWithoutName) {
  EXPECT_TRUE(ObjectKeyMapper()(Json::object()).empty());
  EXPECT_TRUE(ObjectKeyMapper()(Json::array()).empty());
  EXPECT_TRUE(ObjectKeyMapper()({{"metadata", {{"name", 5}}}}).empty());
}

TEST(OwnerMapper, MapsToControllerOwnerOfKind) {
  Json object = Owned({{{"kind", "Cluster"}, {"name", "c"}, {"controller", false}},
                       {{"kind", "Component"}, {"name", "web"}, {"controller", true}}});
  EXPECT_EQ(OwnerMapper("Component")(object), (Requests{{"demo", "web"}}));
}

TEST(OwnerMapper, IgnoresOtherKindsAndNonControllers) {
  EXPECT_TRUE(OwnerMapper("Component")(Owned({{{"kind", "Cluster"}, {"name", "c"}, {"controller", true}}})).empty());
  EXPECT_TRUE(OwnerMapper("Component")(Owned({{{"kind", "Component"}, {"name", "web"}}})).empty());
  EXPECT_TRUE(OwnerMapper("Component")(Owned({{{"kind", "Component"}, {"name", "web"}, {"controller", "true"}}})).empty());
}

TEST(OwnerMapper, ToleratesMalformedReferences) {
  EXPECT_TRUE(OwnerMapper("Component")(Owned("not-a-list")).empty());
  EXPECT_TRUE(OwnerMapper("Component")(Owned({1, nullptr, "x"})).empty());
  EXPECT_TRUE(OwnerMapper("Component")(Owned({{{"kind", "Component"}, {"controller", true}}})).empty());
  EXPECT_TRUE(OwnerMapper("Component")(Json()).empty());
}

TEST(LabelMapper, MapsToNamedObject) {
  Json pod = {{"metadata", {{"name", "p"}, {"namespace", "demo"}, {"labels", {{"app.kubernetes.io/instance", "mycluster"}}}}}};
  EXPECT_EQ(LabelMapper("app.kubernetes.io/instance")(pod), (Requests{{"demo", "mycluster"}}));
}

TEST(LabelMapper, IgnoresMissingEmptyOrMistypedLabel) {
  EXPECT_TRUE(LabelMapper("app")({{"metadata", {{"name", "p"}}}}).empty());
  EXPECT_TRUE(LabelMapper("app")({{"metadata", {{"name", "p"}, {"labels", {{"app", ""}}}}}}).empty());
  EXPECT_TRUE(LabelMapper("app")({{"metadata", {{"name", "p"}, {"labels", {{"app", 3}}}}}}).empty());
  EXPECT_TRUE(LabelMapper("app")({{"metadata", {{"name", "p"}, {"labels", "app=x"}}}}).empty());
}

}  // namespace
}  // namespace xblocks::controllers
