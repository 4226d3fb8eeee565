#include <atomic>
#include <string>
#include <vector>

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

std::vector<int64_t> Revisions(const std::vector<Event>& events) {
  std::vector<int64_t> revisions;
  for (const Event& event : events) revisions.push_back(event.revision);
  return revisions;
}

TEST(StoreWatch, FromZeroGetsOnlyNewEvents) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "old"), MakePod("demo", "old")).ok());

  std::atomic<int> notified = 0;
  auto watcher = store->Watch("/core/pods/demo/", 0, [&] { ++notified; });
  ASSERT_TRUE(watcher.ok()) << watcher.status().message();
  EXPECT_TRUE((*watcher)->Drain().empty());
  EXPECT_EQ(notified, 0);

  ASSERT_TRUE(store->Create(PodKey("demo", "new"), MakePod("demo", "new")).ok());
  EXPECT_EQ(notified, 1);
  std::vector<Event> events = (*watcher)->Drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kAdded);
  EXPECT_EQ(events[0].key, PodKey("demo", "new"));
  EXPECT_EQ(events[0].revision, 2);
  EXPECT_EQ(ResourceVersion(events[0].object), "2");
  EXPECT_TRUE(events[0].prev_object.is_null());
}

TEST(StoreWatch, FromOlderRevisionReplaysInOrder) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_TRUE(store->Create(PodKey("demo", name), MakePod("demo", name)).ok());
  }
  ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 0).ok());

  std::atomic<int> notified = 0;
  auto watcher = store->Watch("/core/pods/demo/", 1, [&] { ++notified; });
  ASSERT_TRUE(watcher.ok()) << watcher.status().message();
  EXPECT_EQ(notified, 1) << "replayed events must be announced";
  ASSERT_TRUE(store->Delete(PodKey("demo", "b"), 0).ok());

  std::vector<Event> events = (*watcher)->Drain();
  EXPECT_EQ(Revisions(events), (std::vector<int64_t>{2, 3, 4, 5}));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[2].type, EventType::kModified);
  EXPECT_EQ(events[3].type, EventType::kDeleted);
}

TEST(StoreWatch, FromCurrentRevisionReplaysNothing) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  auto watcher = store->Watch("/core/pods/", store->CurrentRevision(), nullptr);
  ASSERT_TRUE(watcher.ok());
  EXPECT_TRUE((*watcher)->Drain().empty());
}

TEST(StoreWatch, PrefixExcludesSiblingNamespace) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  auto watcher = store->Watch("/core/pods/demo/", 0, nullptr);
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(store->Create(PodKey("demo2", "a"), MakePod("demo2", "a")).ok());
  ASSERT_TRUE(store->Create(PodKey("demo", "b"), MakePod("demo", "b")).ok());

  std::vector<Event> events = (*watcher)->Drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].key, PodKey("demo", "b"));
}

TEST(StoreWatch, TooOldRevisionIsGone) {
  TempDir dir;
  Store::Options options = TestOptions(dir);
  options.watch_history = 3;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 10; ++i) {
    const std::string name = "p" + std::to_string(i);
    ASSERT_TRUE(store->Create(PodKey("demo", name), MakePod("demo", name)).ok());
  }
  EXPECT_EQ(store->CompactedRevision(), 7);

  auto too_old = store->Watch("/core/pods/", 6, nullptr);
  ASSERT_FALSE(too_old.ok());
  EXPECT_EQ(too_old.status().code(), StatusCode::kGone);
  EXPECT_STREQ(ReasonName(too_old.status().code()), "Expired");

  auto resumed = store->Watch("/core/pods/", 7, nullptr);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_EQ(Revisions((*resumed)->Drain()), (std::vector<int64_t>{8, 9, 10}));
}

TEST(StoreWatch, CompactedRevisionIsGone) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a"), 0).ok());
  }
  ASSERT_TRUE(store->Compact(3).ok());
  EXPECT_EQ(store->CompactedRevision(), 3);

  auto too_old = store->Watch("/core/pods/", 2, nullptr);
  ASSERT_FALSE(too_old.ok());
  EXPECT_EQ(too_old.status().code(), StatusCode::kGone);
  auto resumed = store->Watch("/core/pods/", 3, nullptr);
  ASSERT_TRUE(resumed.ok());
  EXPECT_EQ(Revisions((*resumed)->Drain()), (std::vector<int64_t>{4, 5}));
}

TEST(StoreWatch, OlderRevisionAfterReopenIsGone) {
  TempDir dir;
  {
    auto store = OpenOrDie(TestOptions(dir));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
    ASSERT_TRUE(store->Create(PodKey("demo", "b"), MakePod("demo", "b")).ok());
  }
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Watch("/core/pods/", 1, nullptr).status().code(), StatusCode::kGone);
  EXPECT_TRUE(store->Watch("/core/pods/", 2, nullptr).ok());
}

TEST(StoreWatch, FutureRevisionIsTimeout) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  auto watcher = store->Watch("/core/pods/", 5, nullptr);
  ASSERT_FALSE(watcher.ok());
  EXPECT_EQ(watcher.status().code(), StatusCode::kTimeout);
  EXPECT_EQ(store->Watch("/core/pods/", -1, nullptr).status().code(), StatusCode::kInvalid);
}

TEST(StoreWatch, SlowWatcherClosedAtQueueLimit) {
  TempDir dir;
  Store::Options options = TestOptions(dir);
  options.watcher_queue = 5;
  auto store = OpenOrDie(options);
  ASSERT_NE(store, nullptr);
  auto slow = store->Watch("/core/pods/", 0, nullptr);
  auto fast = store->Watch("/core/pods/", 0, nullptr);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE(fast.ok());

  for (int i = 0; i < 5; ++i) {
    const std::string name = "p" + std::to_string(i);
    ASSERT_TRUE(store->Create(PodKey("demo", name), MakePod("demo", name)).ok());
    (*fast)->Drain();
  }
  EXPECT_FALSE((*slow)->closed()) << "a full queue alone must not close the watcher";

  ASSERT_TRUE(store->Create(PodKey("demo", "p5"), MakePod("demo", "p5")).ok());
  EXPECT_TRUE((*slow)->closed());
  EXPECT_FALSE((*fast)->closed());
  EXPECT_EQ(Revisions((*slow)->Drain()), (std::vector<int64_t>{1, 2, 3, 4, 5}));

  ASSERT_TRUE(store->Create(PodKey("demo", "p6"), MakePod("demo", "p6")).ok());
  EXPECT_TRUE((*slow)->Drain().empty()) << "a closed watcher receives nothing more";
  EXPECT_EQ(Revisions((*fast)->Drain()), (std::vector<int64_t>{6, 7}));
}

TEST(StoreWatch, CancelStopsDelivery) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  std::atomic<int> notified = 0;
  auto watcher = store->Watch("/core/pods/", 0, [&] { ++notified; });
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  EXPECT_EQ(notified, 1);

  (*watcher)->Cancel();
  (*watcher)->Cancel();
  ASSERT_TRUE(store->Create(PodKey("demo", "b"), MakePod("demo", "b")).ok());
  EXPECT_TRUE((*watcher)->Drain().empty());
  EXPECT_EQ(notified, 1);
}

TEST(StoreWatch, DeletedEventCarriesLastObject) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a", "v1")).ok());
  auto watcher = store->Watch("/core/pods/", 0, nullptr);
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(store->Delete(PodKey("demo", "a"), 0).ok());

  std::vector<Event> events = (*watcher)->Drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kDeleted);
  EXPECT_EQ(events[0].revision, 2);
  EXPECT_EQ(ResourceVersion(events[0].object), "2");
  EXPECT_EQ(events[0].object["spec"]["containers"][0]["image"], "v1");
  ASSERT_TRUE(events[0].prev_object.is_object());
  EXPECT_EQ(ResourceVersion(events[0].prev_object), "1");
}

TEST(StoreWatch, ModifiedEventCarriesPrevObject) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a", "v1")).ok());
  auto watcher = store->Watch("/core/pods/", 0, nullptr);
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(store->Update(PodKey("demo", "a"), MakePod("demo", "a", "v2"), 0).ok());

  std::vector<Event> events = (*watcher)->Drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, EventType::kModified);
  EXPECT_EQ(events[0].object["spec"]["containers"][0]["image"], "v2");
  EXPECT_EQ(events[0].prev_object["spec"]["containers"][0]["image"], "v1");
}

TEST(StoreWatch, NotifyMayCallBackIntoStore) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  bool wrote_from_notify = false;
  int64_t seen_revision = 0;
  auto watcher = store->Watch("/core/pods/", 0, [&] {
    // A callback that runs under a store lock would deadlock here.
    seen_revision = store->CurrentRevision();
    if (!wrote_from_notify) {
      wrote_from_notify = true;
      EXPECT_TRUE(store->Create("/core/configmaps/demo/c", Json{{"kind", "ConfigMap"}}).ok());
    }
  });
  ASSERT_TRUE(watcher.ok());
  ASSERT_TRUE(store->Create(PodKey("demo", "a"), MakePod("demo", "a")).ok());
  EXPECT_TRUE(wrote_from_notify);
  EXPECT_EQ(seen_revision, 1);
  EXPECT_EQ(store->CurrentRevision(), 2);
}

TEST(StoreWatch, ClosingStoreClosesWatchers) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  std::atomic<int> notified = 0;
  auto watcher = store->Watch("/core/pods/", 0, [&] { ++notified; });
  ASSERT_TRUE(watcher.ok());
  std::shared_ptr<Watcher> open_watcher = *watcher;
  store.reset();
  EXPECT_TRUE(open_watcher->closed());
  EXPECT_EQ(notified, 1);
}

}  // namespace
}  // namespace xblocks::store
