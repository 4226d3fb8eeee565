#include <string>

#include <gtest/gtest.h>

#include "unit/store_test_support.h"

namespace xblocks::store {
namespace {

using testing::MakePod;
using testing::OpenOrDie;
using testing::PodKey;
using testing::ResourceVersion;
using testing::TempDir;
using testing::TestOptions;

TEST(StoreCrud, CreateSetsResourceVersion) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CurrentRevision(), 0);

  Result<Json> created = store->Create(PodKey("demo", "a"), MakePod("demo", "a"));
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(ResourceVersion(*created), "1");
  EXPECT_EQ(store->CurrentRevision(), 1);

  Result<Json> got = store->Get(PodKey("demo", "a"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, *created);
}

TEST(StoreCrud, CreateAddsMissingMetadata) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Result<Json> created = store->Create("/core/configmaps/demo/c", Json{{"kind", "ConfigMap"}});
  ASSERT_TRUE(created.ok()) << created.status().message();
  EXPECT_EQ(ResourceVersion(*created), "1");
}

TEST(StoreCrud, CreateRejectsDuplicate) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());

  Result<Json> again = store->Create(PodKey("demo", "a"), MakePod("demo", "a", "other"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store->CurrentRevision(), 1) << "a rejected write must not use a revision";
  EXPECT_EQ(store->Get(PodKey("demo", "a"))->at("spec").at("containers")[0].at("image"), "x");
}

TEST(StoreCrud, GetMissingIsNotFound) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Result<Json> got = store->Get(PodKey("demo", "missing"));
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kNotFound);
}

TEST(StoreCrud, UpdateReplacesObject) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());

  Result<Json> updated = store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 1);
  ASSERT_TRUE(updated.ok()) << updated.status().message();
  EXPECT_EQ(ResourceVersion(*updated), "2");
  Result<Json> got = store->Get(PodKey("demo", "a"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->at("spec").at("containers")[0].at("image"), "v2");
  EXPECT_EQ(ResourceVersion(*got), "2");
}

TEST(StoreCrud, UpdateWithZeroSkipsCheck) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 0).ok());
  Result<Json> third = store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v3"), 0);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(ResourceVersion(*third), "3");
}

TEST(StoreCrud, UpdateStaleRevisionIsConflict) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 1).ok());

  Result<Json> stale = store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v3"), 1);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_NE(stale.status().message().find("latest version"), std::string::npos);
  EXPECT_EQ(store->CurrentRevision(), 2);
}

TEST(StoreCrud, UpdateMissingIsNotFound) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Result<Json> updated = store->Update(PodKey("demo", "a"), MakePod("demo", "a"), 0);
  ASSERT_FALSE(updated.ok());
  EXPECT_EQ(updated.status().code(), StatusCode::kNotFound);
}

TEST(StoreCrud, DeleteReturnsLastStateAtNewRevision) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a", "v1")).ok());

  Result<Json> deleted = store->Delete(PodKey("demo", "a"), 1);
  ASSERT_TRUE(deleted.ok()) << deleted.status().message();
  EXPECT_EQ(ResourceVersion(*deleted), "2");
  EXPECT_EQ(deleted->at("spec").at("containers")[0].at("image"), "v1");
  EXPECT_EQ(store->Get(PodKey("demo", "a")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->CurrentRevision(), 2);
}

TEST(StoreCrud, DeleteMissingIsNotFound) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Result<Json> deleted = store->Delete(PodKey("demo", "a"), 0);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), StatusCode::kNotFound);
}

TEST(StoreCrud, DeleteStaleRevisionIsConflict) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 0).ok());

  Result<Json> deleted = store->Delete(PodKey("demo", "a"), 1);
  ASSERT_FALSE(deleted.ok());
  EXPECT_EQ(deleted.status().code(), StatusCode::kConflict);
  EXPECT_TRUE(store->Get(PodKey("demo", "a")).ok());
}

TEST(StoreCrud, CreateAfterDeleteWorks) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a", "v1")).ok());
  ASSERT_TRUE(store->Delete(PodKey("demo", "a"), 0).ok());

  Result<Json> recreated = store->Create(PodKey("demo", "a"), MakePod("demo", "a", "v2"));
  ASSERT_TRUE(recreated.ok()) << recreated.status().message();
  EXPECT_EQ(ResourceVersion(*recreated), "3");
  EXPECT_EQ(store->Get(PodKey("demo", "a"))->at("spec").at("containers")[0].at("image"), "v2");
}

TEST(StoreCrud, RejectsInvalidKeys) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  const std::string with_nul("/core/pods/demo/a\0b", 19);
  for (const std::string& key : {std::string(), std::string("core/pods/demo/a"), with_nul}) {
    SCOPED_TRACE(key);
    EXPECT_EQ(store->Create(key, MakePod("demo", "a")).status().code(), StatusCode::kInvalid);
    EXPECT_EQ(store->Update(key, MakePod("demo", "a"), 0).status().code(), StatusCode::kInvalid);
    EXPECT_EQ(store->Delete(key, 0).status().code(), StatusCode::kInvalid);
    EXPECT_EQ(store->Get(key).status().code(), StatusCode::kInvalid);
  }
  EXPECT_EQ(store->CurrentRevision(), 0);
}

TEST(StoreCrud, RejectsObjectsThatAreNotJsonObjects) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  for (const Json& object : {Json::array({1, 2}), Json("pod"), Json(),
                             Json{{"metadata", "not-an-object"}}}) {
    SCOPED_TRACE(object.dump());
    Result<Json> created = store->Create(PodKey("demo", "a"), object);
    ASSERT_FALSE(created.ok());
    EXPECT_EQ(created.status().code(), StatusCode::kInvalid);
  }
  EXPECT_EQ(store->CurrentRevision(), 0);
}

TEST(StoreCrud, RejectsValueAboveThreeMebibytes) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Json pod = MakePod("demo", "big");
  pod["data"] = std::string(3 * 1024 * 1024, 'x');

  Result<Json> created = store->Create(PodKey("demo", "big"), pod);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kRequestEntityTooLarge);
  EXPECT_EQ(store->CurrentRevision(), 0);

  pod["data"] = std::string(3 * 1024 * 1024 - 1024, 'x');
  EXPECT_TRUE(store->Create(PodKey("demo", "big"), pod).ok());
}

TEST(StoreCrud, RejectsDeepNesting) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Json deep = Json::array();
  for (int i = 0; i < 100000; ++i) deep = Json::array({std::move(deep)});
  Json pod = MakePod("demo", "deep");
  pod["data"] = std::move(deep);

  Result<Json> created = store->Create(PodKey("demo", "deep"), std::move(pod));
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalid);
}

TEST(StoreCrud, RejectsInvalidUtf8) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  Json pod = MakePod("demo", "a");
  pod["data"] = std::string("\xff\xfe", 2);
  Result<Json> created = store->Create(PodKey("demo", "a"), pod);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().code(), StatusCode::kInvalid);
}

TEST(StoreCrud, GetReturnsCopy) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  Result<Json> got = store->Get(PodKey("demo", "a"));
  ASSERT_TRUE(got.ok());
  (*got)["spec"] = nullptr;
  EXPECT_FALSE(store->Get(PodKey("demo", "a"))->at("spec").is_null());
}

TEST(StoreList, PrefixExcludesSiblingNamespace) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  ASSERT_TRUE(store->Create(PodKey("demo2", "b"), MakePod("demo2", "b")).ok());
  ASSERT_TRUE(store->Create("/core/services/demo/a", Json{{"kind", "Service"}}).ok());

  ListResult demo = store->List("/core/pods/demo/");
  ASSERT_EQ(demo.items.size(), 1u);
  EXPECT_EQ(demo.items[0]["metadata"]["name"], "a");
  EXPECT_EQ(demo.revision, 3);

  EXPECT_EQ(store->List("/core/pods/").items.size(), 2u);
  EXPECT_EQ(store->List("/core/").items.size(), 3u);
  EXPECT_TRUE(store->List("/core/pods/nope/").items.empty());
}

TEST(StoreList, SortedByKeyAndSkipsDeleted) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  for (const char* name : {"c", "a", "b", "d"}) {
    ASSERT_TRUE(store->Create(PodKey("demo", name), MakePod("demo", name)).ok());
  }
  ASSERT_TRUE(store->Delete(PodKey("demo", "d"), 0).ok());

  ListResult list = store->List("/core/pods/demo/");
  ASSERT_EQ(list.items.size(), 3u);
  EXPECT_EQ(list.items[0]["metadata"]["name"], "a");
  EXPECT_EQ(list.items[1]["metadata"]["name"], "b");
  EXPECT_EQ(list.items[2]["metadata"]["name"], "c");
  EXPECT_EQ(list.revision, 5);
}

}  // namespace
}  // namespace xblocks::store
