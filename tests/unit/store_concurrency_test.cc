#include <atomic>
#include <set>
#include <string>
#include <thread>
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

constexpr int kWriters = 4;
constexpr int kWritesPerWriter = 50;

// Creates pods in the writer's own namespace and deletes every fifth one. Returns the revisions
// the store assigned, in the order it assigned them.
std::vector<int64_t> RunWriter(Store& store, int writer) {
  std::vector<int64_t> revisions;
  for (int i = 0; i < kWritesPerWriter; ++i) {
    const std::string ns = "w" + std::to_string(writer);
    const std::string name = "p" + std::to_string(i);
    Result<Json> written = (i % 5 == 4) ? store.Delete(PodKey(ns, "p" + std::to_string(i - 1)), 0)
                                        : store.Create(PodKey(ns, name), MakePod(ns, name));
    EXPECT_TRUE(written.ok()) << written.status().message();
    if (written.ok()) revisions.push_back(std::stoll(ResourceVersion(*written)));
  }
  return revisions;
}

TEST(StoreConcurrency, WritersGetUniqueIncreasingRevisions) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  auto all_pods = store->Watch("/core/pods/", 0, nullptr);
  auto writer1_pods = store->Watch("/core/pods/w1/", 0, nullptr);
  ASSERT_TRUE(all_pods.ok());
  ASSERT_TRUE(writer1_pods.ok());

  std::vector<std::vector<int64_t>> given(kWriters);
  std::atomic<bool> done = false;
  std::atomic<int64_t> reader_violations = 0;
  std::thread reader([&] {
    // Lists must never go back in revision while writers run.
    int64_t last = 0;
    while (!done) {
      const int64_t revision = store->List("/core/pods/").revision;
      if (revision < last) ++reader_violations;
      last = revision;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] { given[w] = RunWriter(*store, w); });
  }
  for (std::thread& writer : writers) writer.join();
  done = true;
  reader.join();
  EXPECT_EQ(reader_violations, 0);

  std::set<int64_t> unique;
  for (const std::vector<int64_t>& revisions : given) {
    for (size_t i = 1; i < revisions.size(); ++i) EXPECT_LT(revisions[i - 1], revisions[i]);
    unique.insert(revisions.begin(), revisions.end());
  }
  constexpr int64_t kTotal = kWriters * kWritesPerWriter;
  EXPECT_EQ(unique.size(), static_cast<size_t>(kTotal));
  EXPECT_EQ(*unique.begin(), 1);
  EXPECT_EQ(*unique.rbegin(), kTotal);
  EXPECT_EQ(store->CurrentRevision(), kTotal);

  std::vector<Event> events = (*all_pods)->Drain();
  ASSERT_EQ(events.size(), static_cast<size_t>(kTotal));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].revision, static_cast<int64_t>(i + 1));

  std::vector<Event> w1_events = (*writer1_pods)->Drain();
  ASSERT_EQ(w1_events.size(), static_cast<size_t>(kWritesPerWriter));
  for (size_t i = 0; i < w1_events.size(); ++i) {
    EXPECT_EQ(w1_events[i].revision, given[1][i]) << "watcher order differs at event " << i;
  }
}

// A watcher opened while writers run must see, after the revision it started from, every event
// of its prefix exactly once and in order.
TEST(StoreConcurrency, WatchOpenedDuringWritesHasNoGaps) {
  TempDir dir;
  auto store = OpenOrDie(TestOptions(dir));
  ASSERT_NE(store, nullptr);
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] { RunWriter(*store, w); });
  }
  std::this_thread::yield();
  ListResult listed = store->List("/core/pods/");
  auto watcher = store->Watch("/core/pods/", listed.revision, nullptr);
  for (std::thread& writer : writers) writer.join();
  ASSERT_TRUE(watcher.ok()) << watcher.status().message();

  std::vector<Event> events = (*watcher)->Drain();
  int64_t expected = listed.revision + 1;
  for (const Event& event : events) EXPECT_EQ(event.revision, expected++);
  EXPECT_EQ(expected - 1, store->CurrentRevision());
}

}  // namespace
}  // namespace xblocks::store
