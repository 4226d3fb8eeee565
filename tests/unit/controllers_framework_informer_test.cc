// The informer over a real registry: initial sync, events, selectors, and re-lists after the
// watch closes, expires or fails, without missing a delete.
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "api/json_fields.h"
#include "controllers/informer.h"
#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

using controllers::Informer;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Records handler calls as "add:a", "update:a:<old a>-><new a>" and "delete:a", where <x a> is
// data.a of that object.
class Recorder {
 public:
  Informer::Handlers Handlers() {
    Informer::Handlers handlers;
    handlers.on_add = [this](const Json& object) { Record("add:" + Name(object)); };
    handlers.on_update = [this](const Json& old_object, const Json& new_object) {
      Record("update:" + Name(new_object) + ":" + api::StringAt(old_object, "data.a") + "->" +
             api::StringAt(new_object, "data.a"));
    };
    handlers.on_delete = [this](const Json& object) { Record("delete:" + Name(object)); };
    return handlers;
  }

  bool Saw(const std::string& entry) const {
    std::lock_guard lock(mu_);
    return std::find(entries_.begin(), entries_.end(), entry) != entries_.end();
  }

  int Count(const std::string& entry) const {
    std::lock_guard lock(mu_);
    return static_cast<int>(std::count(entries_.begin(), entries_.end(), entry));
  }

  std::vector<std::string> entries() const {
    std::lock_guard lock(mu_);
    return entries_;
  }

 private:
  static std::string Name(const Json& object) { return api::StringAt(object, "metadata.name"); }
  void Record(std::string entry) {
    std::lock_guard lock(mu_);
    entries_.push_back(std::move(entry));
  }

  mutable std::mutex mu_;
  std::vector<std::string> entries_;
};

// A Client over the LocalClient that fails the first `list_failures` lists and runs a hook
// before each Watch, which may fail it.
class FaultyClient : public client::LocalClient {
 public:
  using LocalClient::LocalClient;

  Result<client::ObjectList> List(const client::Resource& resource, const std::string& ns,
                                  const client::ListOptions& options) override {
    ++list_calls;
    if (list_failures > 0) {
      --list_failures;
      return Status(StatusCode::kUnavailable, "injected list failure");
    }
    return LocalClient::List(resource, ns, options);
  }

  Result<std::unique_ptr<client::WatchStream>> Watch(const client::Resource& resource, const std::string& ns,
                                                     int64_t resource_version,
                                                     const client::ListOptions& options) override {
    ++watch_calls;
    if (before_watch) {
      Status injected = before_watch();
      if (!injected.ok()) return injected;
    }
    return LocalClient::Watch(resource, ns, resource_version, options);
  }

  std::atomic<int> list_failures{0};
  std::atomic<int> list_calls{0};
  std::atomic<int> watch_calls{0};
  std::function<Status()> before_watch;  // set before the informer starts
};

const Informer::Options kFastRetry{.poll = milliseconds(20), .retry_initial = milliseconds(1), .retry_max = milliseconds(20)};

class InformerTest : public ClientFixture {};

TEST_F(InformerTest, SyncsExistingObjects) {
  CreateConfigMap("a", {{"a", "1"}});
  CreateConfigMap("b", {{"a", "2"}});
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  EXPECT_FALSE(informer.HasSynced());

  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  EXPECT_TRUE(recorder.Saw("add:a"));
  EXPECT_TRUE(recorder.Saw("add:b"));
  auto a = informer.Get("demo", "a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ((*a)["data"]["a"], "1");
  EXPECT_FALSE(informer.Get("demo", "missing").has_value());
  EXPECT_FALSE(informer.Get("other", "a").has_value());
  EXPECT_EQ(informer.list_count(), 1);
}

TEST_F(InformerTest, WaitForSyncTimesOutBeforeStart) {
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  EXPECT_FALSE(informer.WaitForSync(milliseconds(10)));
}

TEST_F(InformerTest, SeesAddsUpdatesAndDeletes) {
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  CreateConfigMap("a", {{"a", "1"}});
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:a"); }));
  EXPECT_TRUE(informer.Get("demo", "a").has_value()) << "the cache must hold the object before handlers run";

  PatchData("a", {{"a", "2"}});
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("update:a:1->2"); }));
  EXPECT_EQ((*informer.Get("demo", "a"))["data"]["a"], "2");

  DeleteConfigMap("a");
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("delete:a"); }));
  EXPECT_FALSE(informer.Get("demo", "a").has_value());
  EXPECT_EQ(recorder.Count("add:a"), 1);
}

TEST_F(InformerTest, ListFiltersByNamespaceAndLabels) {
  auto ns = client_->Create(client::resources::kNamespaces, {{"metadata", {{"name", "other"}}}});
  ASSERT_TRUE(ns.ok()) << ns.status().message();
  CreateConfigMap("a", {{"a", "1"}}, {{"app", "x"}});
  CreateConfigMap("b", {{"a", "1"}}, {{"app", "y"}});
  Json other = ConfigMap("c", {{"a", "1"}}, {{"app", "x"}});
  other["metadata"]["namespace"] = "other";
  ASSERT_TRUE(client_->Create(client::resources::kConfigMaps, other).ok());

  Informer informer(*client_, client::resources::kConfigMaps);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  auto selected = informer.List("", "app=x");
  ASSERT_TRUE(selected.ok()) << selected.status().message();
  ASSERT_EQ(selected->size(), 2u);
  EXPECT_EQ((*selected)[0]["metadata"]["name"], "a");
  EXPECT_EQ((*selected)[1]["metadata"]["name"], "c");

  auto in_demo = informer.List("demo", "app=x");
  ASSERT_TRUE(in_demo.ok());
  ASSERT_EQ(in_demo->size(), 1u);
  EXPECT_EQ((*in_demo)[0]["metadata"]["name"], "a");

  auto all_in_demo = informer.List("demo");
  ASSERT_TRUE(all_in_demo.ok());
  EXPECT_EQ(all_in_demo->size(), 2u);
  EXPECT_TRUE(informer.List("dem", "")->empty()) << "a namespace prefix must not match";
}

TEST_F(InformerTest, ListRejectsBadSelector) {
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  auto listed = informer.List("demo", "app in (x");
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.status().code(), StatusCode::kBadRequest);
}

TEST_F(InformerTest, LabelSelectedInformerDeletesObjectThatStopsMatching) {
  Informer informer(*client_, client::resources::kConfigMaps, "demo", {.label_selector = "app=x"});
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  CreateConfigMap("a", {{"a", "1"}}, {{"app", "x"}});
  CreateConfigMap("b", {{"a", "1"}}, {{"app", "y"}});
  ASSERT_TRUE(Eventually([&] { return recorder.Saw("add:a"); }));

  auto relabeled = client_->Patch(client::resources::kConfigMaps, "demo", "a", client::PatchType::kMerge,
                                  {{"metadata", {{"labels", {{"app", "z"}}}}}});
  ASSERT_TRUE(relabeled.ok()) << relabeled.status().message();
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("delete:a"); }));
  EXPECT_FALSE(informer.Get("demo", "a").has_value());
  EXPECT_FALSE(recorder.Saw("add:b"));
}

TEST_F(InformerTest, LateHandlersReceiveCachedObjects) {
  CreateConfigMap("a");
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  EXPECT_TRUE(recorder.Saw("add:a"));
  CreateConfigMap("b");
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:b"); }));
}

TEST_F(InformerTest, RemovedHandlersAreNotCalled) {
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  Recorder removed;
  Recorder kept;
  const Informer::HandlerId id = informer.AddHandlers(removed.Handlers());
  informer.AddHandlers(kept.Handlers());
  informer.RemoveHandlers(id);
  informer.RemoveHandlers(12345);  // unknown ids are ignored
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  CreateConfigMap("a");
  ASSERT_TRUE(Eventually([&] { return kept.Saw("add:a"); }));
  EXPECT_TRUE(removed.entries().empty());
}

// A Rendezvous lets a test hold the informer thread inside a handler.
class Rendezvous {
 public:
  void Block() {
    std::unique_lock lock(mu_);
    blocked_ = true;
    cv_.notify_all();
    cv_.wait(lock, [this] { return released_; });
  }
  bool WaitBlocked() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, seconds(10), [this] { return blocked_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool blocked_ = false;
  bool released_ = false;
};

class SmallWatcherQueueTest : public InformerTest {
 protected:
  void SetUp() override {
    watcher_queue_ = 2;
    InformerTest::SetUp();
  }
};

TEST_F(SmallWatcherQueueTest, RelistsAfterWatchClosesWithoutMissingDelete) {
  CreateConfigMap("victim");
  CreateConfigMap("changed", {{"a", "1"}});
  Informer informer(*client_, client::resources::kConfigMaps, "demo", {}, kFastRetry);
  Recorder recorder;
  Rendezvous rendezvous;
  Informer::Handlers blocker;
  blocker.on_add = [&](const Json& object) {
    if (api::StringAt(object, "metadata.name") == "blocker") rendezvous.Block();
  };
  informer.AddHandlers(blocker);
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  // Hold the informer thread while more events arrive than the watcher may queue, so the
  // store closes the watch and drops the events after the first two, the delete among them.
  CreateConfigMap("blocker");
  ASSERT_TRUE(rendezvous.WaitBlocked());
  CreateConfigMap("queued-1");
  CreateConfigMap("queued-2");
  CreateConfigMap("dropped");
  PatchData("changed", {{"a", "2"}});
  DeleteConfigMap("victim");
  rendezvous.Release();

  EXPECT_TRUE(Eventually([&] { return recorder.Saw("delete:victim"); }));
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:dropped"); }));
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("update:changed:1->2"); }));
  EXPECT_TRUE(recorder.Saw("add:queued-1"));
  EXPECT_TRUE(recorder.Saw("add:queued-2"));
  EXPECT_GE(informer.list_count(), 2);
  EXPECT_FALSE(informer.Get("demo", "victim").has_value());
  EXPECT_EQ(recorder.Count("add:queued-1"), 1) << "a re-list must not repeat adds of unchanged objects";

  // The informer watches again after the re-list.
  CreateConfigMap("after");
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:after"); }));
}

class FaultyClientTest : public InformerTest {
 protected:
  void SetUp() override {
    InformerTest::SetUp();
    faulty_ = std::make_unique<FaultyClient>(*registry_, "controllers-test");
  }
  void TearDown() override {
    faulty_.reset();
    InformerTest::TearDown();
  }

  std::unique_ptr<FaultyClient> faulty_;
};

TEST_F(FaultyClientTest, RetriesFailedList) {
  CreateConfigMap("a");
  faulty_->list_failures = 3;
  Informer informer(*faulty_, client::resources::kConfigMaps, "demo", {}, kFastRetry);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  EXPECT_EQ(faulty_->list_calls.load(), 4);
  EXPECT_EQ(informer.list_count(), 1);
  EXPECT_TRUE(informer.Get("demo", "a").has_value());
}

TEST_F(FaultyClientTest, RelistsWhenWatchExpires) {
  CreateConfigMap("victim");
  CreateConfigMap("kept");
  // The first watch fails as if its revision had been compacted, after the object was deleted
  // behind the informer's back.
  std::atomic<bool> expired{false};
  faulty_->before_watch = [&]() -> Status {
    if (expired.exchange(true)) return Status::Ok();
    Status deleted = client_->Delete(client::resources::kConfigMaps, "demo", "victim", {});
    if (!deleted.ok()) return deleted;
    return Gone("too old resource version");
  };
  Informer informer(*faulty_, client::resources::kConfigMaps, "demo", {}, kFastRetry);
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  EXPECT_TRUE(Eventually([&] { return recorder.Saw("delete:victim"); }));
  EXPECT_TRUE(Eventually([&] { return informer.list_count() >= 2; }));
  EXPECT_FALSE(recorder.Saw("delete:kept"));
  CreateConfigMap("after");
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:after"); }));
}

TEST_F(FaultyClientTest, RelistsAfterWatchOpenFails) {
  std::atomic<int> failures{2};
  faulty_->before_watch = [&]() -> Status {
    if (failures.fetch_sub(1) > 0) return Status(StatusCode::kUnavailable, "injected watch failure");
    return Status::Ok();
  };
  Informer informer(*faulty_, client::resources::kConfigMaps, "demo", {}, kFastRetry);
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  ASSERT_TRUE(Eventually([&] { return faulty_->watch_calls.load() >= 3; }));
  CreateConfigMap("a");
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:a"); }));
  EXPECT_GE(informer.list_count(), 3);
}

TEST_F(InformerTest, ThrowingHandlerDoesNotStarveOthers) {
  Informer informer(*client_, client::resources::kConfigMaps, "demo");
  Informer::Handlers thrower;
  thrower.on_add = [](const Json& object) { (void)object.at("no-such-field"); };
  informer.AddHandlers(thrower);
  Recorder recorder;
  informer.AddHandlers(recorder.Handlers());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));

  CreateConfigMap("a");
  CreateConfigMap("b");
  EXPECT_TRUE(Eventually([&] { return recorder.Saw("add:b"); }));
  EXPECT_TRUE(recorder.Saw("add:a"));
}

TEST_F(InformerTest, StopIsIdempotentAndKeepsCache) {
  CreateConfigMap("a");
  Informer informer(*client_, client::resources::kConfigMaps, "demo", {}, kFastRetry);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  informer.Stop();
  informer.Stop();
  EXPECT_TRUE(informer.Get("demo", "a").has_value());
  informer.Start();  // a stopped informer stays stopped
  EXPECT_EQ(informer.list_count(), 1);
}

TEST_F(InformerTest, ClusterScopedResource) {
  Informer informer(*client_, client::resources::kNamespaces);
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(seconds(10)));
  EXPECT_TRUE(informer.Get("", "demo").has_value());
  auto all = informer.List("");
  ASSERT_TRUE(all.ok());
  EXPECT_GE(all->size(), 1u);
}

}  // namespace
}  // namespace xblocks::testing
