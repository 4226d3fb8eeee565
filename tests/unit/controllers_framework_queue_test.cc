// The work queue: dedupe, processing exclusivity, delays on a FakeClock, backoff and shutdown.
#include <atomic>
#include <future>
#include <thread>
#include <unordered_map>
#include <vector>

#include <gtest/gtest.h>

#include "controllers/work_queue.h"
#include "controllers_framework_test_support.h"

namespace xblocks::controllers {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using xblocks::testing::Eventually;

const Request kA{"demo", "a"};
const Request kB{"demo", "b"};
const Request kC{"demo", "c"};

// Waits up to 10 s for the future, so a Get() that never returns fails the test instead of hanging.
template <typename T>
bool Ready(std::future<T>& future) {
  return future.wait_for(seconds(10)) == std::future_status::ready;
}

TEST(WorkQueue, AddDeduplicatesQueuedRequests) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(kA);
  queue.Add(kB);
  queue.Add(kA);
  EXPECT_EQ(queue.Len(), 2u);
  EXPECT_EQ(queue.Get(), kA);
  EXPECT_EQ(queue.Get(), kB);
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, GetReturnsRequestsInAddOrder) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(kC);
  queue.Add(kA);
  queue.Add(kB);
  EXPECT_EQ(queue.Get(), kC);
  EXPECT_EQ(queue.Get(), kA);
  EXPECT_EQ(queue.Get(), kB);
}

TEST(WorkQueue, AddWhileProcessingRequeuesAfterDone) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(kA);
  ASSERT_EQ(queue.Get(), kA);

  queue.Add(kA);
  queue.Add(kA);
  EXPECT_EQ(queue.Len(), 0u) << "a processing request must not reach a second worker";

  queue.Done(kA);
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Get(), kA);
  queue.Done(kA);
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, DoneWithoutNewAddDoesNotRequeue) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(kA);
  ASSERT_EQ(queue.Get(), kA);
  queue.Done(kA);
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, NoRequestIsProcessedByTwoWorkersAtOnce) {
  FakeClock clock;
  WorkQueue queue(clock);
  const std::vector<Request> keys = {kA, kB, kC};
  std::unordered_map<std::string, std::atomic<int>> in_flight;
  for (const Request& key : keys) in_flight[key.name] = 0;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};

  std::vector<std::thread> workers;
  for (int i = 0; i < 4; ++i) {
    workers.emplace_back([&] {
      while (auto request = queue.Get()) {
        if (in_flight[request->name].fetch_add(1) != 0) overlap = true;
        std::this_thread::yield();
        in_flight[request->name].fetch_sub(1);
        processed.fetch_add(1);
        queue.Done(*request);
      }
    });
  }
  for (int round = 0; round < 2000; ++round) queue.Add(keys[round % keys.size()]);

  EXPECT_TRUE(Eventually([&] { return queue.Len() == 0; }));
  queue.ShutDown();
  for (auto& worker : workers) worker.join();
  EXPECT_FALSE(overlap.load());
  EXPECT_GE(processed.load(), 3);
}

TEST(WorkQueue, AddAfterReleasesInDueOrder) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(kA, milliseconds(100));
  queue.AddAfter(kB, milliseconds(50));
  queue.Add(kC);
  EXPECT_EQ(queue.Len(), 1u);

  clock.Advance(milliseconds(49));
  EXPECT_EQ(queue.Len(), 1u);
  clock.Advance(milliseconds(1));
  EXPECT_EQ(queue.Len(), 2u);
  EXPECT_EQ(queue.Get(), kC);
  EXPECT_EQ(queue.Get(), kB);

  clock.Advance(milliseconds(50));
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Get(), kA);
}

TEST(WorkQueue, AddAfterKeepsEarlierDueTime) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(kA, milliseconds(100));
  queue.AddAfter(kA, milliseconds(10));
  clock.Advance(milliseconds(10));
  EXPECT_EQ(queue.Len(), 1u);
  ASSERT_EQ(queue.Get(), kA);
  queue.Done(kA);

  queue.AddAfter(kB, milliseconds(10));
  queue.AddAfter(kB, milliseconds(100));
  clock.Advance(milliseconds(10));
  EXPECT_EQ(queue.Len(), 1u);
  ASSERT_EQ(queue.Get(), kB);
  queue.Done(kB);

  // The stale 100 ms entries must not release the requests a second time.
  clock.Advance(milliseconds(200));
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, AddAfterZeroAddsAtOnce) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(kA, milliseconds(0));
  queue.AddAfter(kB, milliseconds(-5));
  EXPECT_EQ(queue.Len(), 2u);
}

TEST(WorkQueue, TickWakesGetBlockedOnFakeClock) {
  FakeClock clock;
  WorkQueue queue(clock);
  auto got = std::async(std::launch::async, [&] { return queue.Get(); });
  queue.AddAfter(kA, seconds(3600));
  EXPECT_EQ(got.wait_for(milliseconds(20)), std::future_status::timeout);

  clock.Advance(seconds(3600));
  queue.Tick();
  ASSERT_TRUE(Ready(got));
  EXPECT_EQ(got.get(), kA);
}

TEST(WorkQueue, GetWaitsForDueTimeOnSystemClock) {
  SystemClock clock;
  WorkQueue queue(clock);
  const auto start = std::chrono::steady_clock::now();
  queue.AddAfter(kA, milliseconds(30));
  EXPECT_EQ(queue.Get(), kA);
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(30));
}

TEST(WorkQueue, HugeDelayDoesNotOverflow) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.AddAfter(kA, milliseconds::max());
  clock.Advance(std::chrono::hours(24 * 365));
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(WorkQueue, BackoffDoublesUpToMaxAndForgetResets) {
  FakeClock clock;
  WorkQueue queue(clock, {.base_delay = milliseconds(5), .max_delay = milliseconds(40)});
  for (int64_t expected : {5, 10, 20, 40, 40}) {
    queue.AddRateLimited(kA);
    clock.Advance(milliseconds(expected - 1));
    EXPECT_EQ(queue.Len(), 0u) << "released before " << expected << "ms";
    clock.Advance(milliseconds(1));
    ASSERT_EQ(queue.Len(), 1u) << "not released after " << expected << "ms";
    ASSERT_EQ(queue.Get(), kA);
    queue.Done(kA);
  }
  EXPECT_EQ(queue.NumRequeues(kA), 5);

  queue.Forget(kA);
  EXPECT_EQ(queue.NumRequeues(kA), 0);
  queue.AddRateLimited(kA);
  clock.Advance(milliseconds(5));
  EXPECT_EQ(queue.Len(), 1u);
}

TEST(WorkQueue, BackoffIsPerRequest) {
  FakeClock clock;
  WorkQueue queue(clock, {.base_delay = milliseconds(5), .max_delay = milliseconds(1000)});
  queue.AddRateLimited(kA);
  clock.Advance(milliseconds(5));
  ASSERT_EQ(queue.Get(), kA);
  queue.Done(kA);
  queue.AddRateLimited(kA);  // second failure of a: 10 ms
  queue.AddRateLimited(kB);  // first failure of b: 5 ms
  clock.Advance(milliseconds(5));
  EXPECT_EQ(queue.Len(), 1u);
  EXPECT_EQ(queue.Get(), kB);
  EXPECT_EQ(queue.NumRequeues(kB), 1);
  EXPECT_EQ(queue.NumRequeues(kA), 2);
}

TEST(WorkQueue, DefaultBackoffCapsAtThousandSeconds) {
  FakeClock clock;
  WorkQueue queue(clock);
  for (int failure = 0; failure < 30; ++failure) {
    queue.AddRateLimited(kA);
    clock.Advance(seconds(1000));
    ASSERT_EQ(queue.Get(), kA);
    queue.Done(kA);
  }
  queue.AddRateLimited(kA);
  clock.Advance(seconds(999));
  EXPECT_EQ(queue.Len(), 0u);
  clock.Advance(seconds(1));
  EXPECT_EQ(queue.Len(), 1u);
}

TEST(WorkQueue, ShutDownWakesAllWaiters) {
  FakeClock clock;
  WorkQueue queue(clock);
  std::vector<std::future<std::optional<Request>>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(std::async(std::launch::async, [&] { return queue.Get(); }));
  }
  queue.AddAfter(kA, seconds(10));  // one waiter also has a due time to wait for
  queue.ShutDown();
  for (auto& waiter : waiters) {
    ASSERT_TRUE(Ready(waiter));
    EXPECT_EQ(waiter.get(), std::nullopt);
  }
  EXPECT_TRUE(queue.ShuttingDown());
}

TEST(WorkQueue, ShutDownDropsQueuedAndIgnoresLaterAdds) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(kA);
  queue.AddAfter(kB, milliseconds(10));
  queue.ShutDown();
  queue.Add(kC);
  queue.AddRateLimited(kC);
  clock.Advance(seconds(1));
  EXPECT_EQ(queue.Len(), 0u);
  EXPECT_EQ(queue.Get(), std::nullopt);
}

TEST(WorkQueue, DoneAfterShutDownIsHarmless) {
  FakeClock clock;
  WorkQueue queue(clock);
  queue.Add(kA);
  ASSERT_EQ(queue.Get(), kA);
  queue.Add(kA);
  queue.ShutDown();
  queue.Done(kA);
  EXPECT_EQ(queue.Len(), 0u);
}

TEST(Request, FormatsAsNamespaceSlashName) {
  EXPECT_EQ((Request{"demo", "a"}).ToString(), "demo/a");
  EXPECT_EQ((Request{"", "node-1"}).ToString(), "node-1");
}

TEST(Request, EqualKeysHashEqual) {
  std::hash<Request> hash;
  EXPECT_EQ(hash(Request{"demo", "a"}), hash(Request{"demo", "a"}));
  EXPECT_NE(Request({"demo", "a"}), Request({"demo", "b"}));
  EXPECT_NE(Request({"ab", "c"}), Request({"a", "bc"}));
}

TEST(ReconcileResult, NamedConstructorsSetKind) {
  EXPECT_EQ(ReconcileResult::Done().kind(), ReconcileResult::Kind::kDone);
  EXPECT_EQ(ReconcileResult::RequeueAfter(milliseconds(7)).delay(), milliseconds(7));
  EXPECT_EQ(ReconcileResult::Retry(Internal("x")).error().code(), StatusCode::kInternal);
  EXPECT_EQ(ReconcileResult::Terminal(Invalid("y")).KindName(), "terminal");
  EXPECT_TRUE(ReconcileResult::Done().error().ok());
}

TEST(ReconcileId, IsEightHexDigitsAndVaries) {
  const std::string first = NewReconcileId();
  EXPECT_EQ(first.size(), 8u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);
  std::string other = NewReconcileId();
  for (int i = 0; i < 10 && other == first; ++i) other = NewReconcileId();
  EXPECT_NE(first, other);
}

}  // namespace
}  // namespace xblocks::controllers
