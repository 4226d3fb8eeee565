#include <sqlite3.h>

#include <fstream>
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

// Runs `sql` on the file directly, bypassing the store, to simulate damage or an old format.
void ExecRaw(const std::filesystem::path& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
      << (error != nullptr ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// Writes a mix of creates, updates and deletes, including a delete followed by a re-create.
void WriteHistory(Store& store) {
  ASSERT_TRUE(store.Create(PodKey("demo", "a"), MakePod("demo", "a", "v1")).ok());
  ASSERT_TRUE(store.Create(PodKey("demo", "b"), MakePod("demo", "b")).ok());
  ASSERT_TRUE(store.Create(PodKey("other", "c"), MakePod("other", "c")).ok());
  ASSERT_TRUE(store.Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 0).ok());
  ASSERT_TRUE(store.Delete(PodKey("demo", "b"), 0).ok());
  ASSERT_TRUE(store.Create("/core/namespaces//demo", Json{{"kind", "Namespace"}}).ok());
  ASSERT_TRUE(store.Delete(PodKey("other", "c"), 0).ok());
  ASSERT_TRUE(store.Create(PodKey("other", "c"), MakePod("other", "c", "v3")).ok());
}

TEST(StoreRecovery, ReopenGivesIdenticalState) {
  TempDir dir;
  ListResult before;
  {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    WriteHistory(*store);
    before = store->List("/");
  }
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ListResult after = store->List("/");
  EXPECT_EQ(after.revision, before.revision);
  EXPECT_EQ(after.revision, 8);
  ASSERT_EQ(after.items.size(), before.items.size());
  for (size_t i = 0; i < after.items.size(); ++i) EXPECT_EQ(after.items[i], before.items[i]);
  EXPECT_EQ(store->Get(PodKey("demo", "b")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ResourceVersion(*store->Get(PodKey("other", "c"))), "8");
}

TEST(StoreRecovery, RevisionsIncreaseAcrossReopen) {
  TempDir dir;
  int64_t last = 0;
  for (int round = 0; round < 3; ++round) {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->CurrentRevision(), last);
    for (int i = 0; i < 3; ++i) {
      const std::string name = "r" + std::to_string(round) + "-" + std::to_string(i);
      Result<Json> created = store->Create(PodKey("demo", name), MakePod("demo", name));
      ASSERT_TRUE(created.ok());
      const int64_t revision = std::stoll(ResourceVersion(*created));
      EXPECT_GT(revision, last);
      last = revision;
    }
  }
}

TEST(StoreRecovery, UpdateAfterReopenChecksRecoveredRevision) {
  TempDir dir;
  {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
    ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 1).ok());
  }
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Update(PodKey("demo", "a"), MakePod("demo", "a"), 1).status().code(),
            StatusCode::kConflict);
  EXPECT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v3"), 2).ok());
}

TEST(StoreCompact, KeepsLatestRowsAndSurvivesReopen) {
  TempDir dir;
  ListResult before;
  {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    WriteHistory(*store);
    before = store->List("/");
    // Rows 1 (a v1), 2 (b) and 3 (c) are superseded, and rows 5 and 7 are tombstones. Rows 4, 6
    // and 8 are the newest rows of live keys, so they stay.
    Result<int64_t> removed = store->Compact(8);
    ASSERT_TRUE(removed.ok()) << removed.status().message();
    EXPECT_EQ(*removed, 5);
    EXPECT_EQ(store->CompactedRevision(), 8);
    EXPECT_EQ(store->List("/").items, before.items);
  }
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->List("/").items, before.items);
  EXPECT_EQ(store->CompactedRevision(), 8);
  Result<Json> next = store->Create(PodKey("demo", "z"), MakePod("demo", "z"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(ResourceVersion(*next), "9");
}

TEST(StoreCompact, KeepsRowsNewerThanKeepAfter) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  WriteHistory(*store);
  // Rows 1, 2 and 3 are at or below 3 and each has a newer row of its key. Rows above 3 stay,
  // tombstones included.
  Result<int64_t> removed = store->Compact(3);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 3);
  Result<int64_t> again = store->Compact(3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(store->Compact(-1).status().code(), StatusCode::kInvalid);
}

TEST(StoreCompact, RevisionCounterSurvivesCompactedTombstone) {
  TempDir dir;
  {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
    ASSERT_TRUE(store->Create(PodKey("demo", "b"), MakePod("demo", "b")).ok());
    ASSERT_TRUE(store->Delete(PodKey("demo", "b"), 0).ok());
    Result<int64_t> removed = store->Compact(100);
    ASSERT_TRUE(removed.ok());
    EXPECT_EQ(*removed, 2);
    EXPECT_EQ(store->CompactedRevision(), 3) << "keep_after is clamped to the current revision";
  }
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->CurrentRevision(), 3) << "the newest revision was a compacted tombstone";
  Result<Json> created = store->Create(PodKey("demo", "b"), MakePod("demo", "b"));
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(ResourceVersion(*created), "4");
}

TEST(StoreOpen, NonSqliteFileIsClearError) {
  TempDir dir;
  {
    std::ofstream file(dir.db(), std::ios::binary);
    file << std::string(8192, 'g') << "this is not a database";
  }
  Result<std::unique_ptr<Store>> store = Store::Open(TestOptions(dir));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_NE(store.status().message().find(dir.db().string()), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos)
      << store.status().message();
}

TEST(StoreOpen, DirectoryMissingIsClearError) {
  TempDir dir;
  Store::Options options = TestOptions(dir);
  options.path = dir.path() / "missing" / "state.db";
  Result<std::unique_ptr<Store>> store = Store::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_NE(store.status().message().find(options.path.string()), std::string::npos);
}

TEST(StoreOpen, SecondOpenOfSameFileIsUnavailable) {
  TempDir dir;
  auto first = OpenOrDie(TestOptions(dir));
  ASSERT_NE(first, nullptr);
  Result<std::unique_ptr<Store>> second = Store::Open(TestOptions(dir));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().message();
}

TEST(StoreOpen, UnknownSchemaVersionIsRejected) {
  TempDir dir;
  { ASSERT_NE(OpenOrDie(TestOptions(dir)), nullptr); }
  ExecRaw(dir.db(), "UPDATE meta SET value = 99 WHERE name = 'schema_version'");
  Result<std::unique_ptr<Store>> store = Store::Open(TestOptions(dir));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_NE(store.status().message().find("schema version 99"), std::string::npos)
      << store.status().message();
}

TEST(StoreOpen, CorruptRowIsRejected) {
  TempDir dir;
  {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  }
  ExecRaw(dir.db(), "UPDATE log SET value = '{not json' WHERE revision = 1");
  Result<std::unique_ptr<Store>> store = Store::Open(TestOptions(dir));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInternal);
  EXPECT_NE(store.status().message().find("revision 1"), std::string::npos)
      << store.status().message();
}

}  // namespace
}  // namespace xblocks::store
