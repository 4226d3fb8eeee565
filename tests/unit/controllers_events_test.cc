// RecordEvent aggregates repeats of an Event without listing the namespace's Events, which is
// what made recording slow against kube-apiserver once a namespace held thousands of them.
#include "client/events.h"

#include <gtest/gtest.h>

#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

// Forwards to the fixture's client and counts the Lists of Events it is asked for.
class CountingClient : public client::Client {
 public:
  explicit CountingClient(client::Client& inner) : inner_(inner) {}

  int event_lists = 0;

  Result<Json> Get(const client::Resource& r, const std::string& ns, const std::string& name) override {
    return inner_.Get(r, ns, name);
  }
  Result<client::ObjectList> List(const client::Resource& r, const std::string& ns,
                                  const client::ListOptions& options) override {
    if (r == client::resources::kEvents) ++event_lists;
    return inner_.List(r, ns, options);
  }
  Result<Json> Create(const client::Resource& r, const Json& object) override { return inner_.Create(r, object); }
  Result<Json> Update(const client::Resource& r, const Json& object) override { return inner_.Update(r, object); }
  Result<Json> UpdateStatus(const client::Resource& r, const Json& object) override {
    return inner_.UpdateStatus(r, object);
  }
  Result<Json> Patch(const client::Resource& r, const std::string& ns, const std::string& name,
                     client::PatchType type, const Json& patch) override {
    return inner_.Patch(r, ns, name, type, patch);
  }
  Result<Json> PatchStatus(const client::Resource& r, const std::string& ns, const std::string& name,
                           const Json& patch) override {
    return inner_.PatchStatus(r, ns, name, patch);
  }
  Status Delete(const client::Resource& r, const std::string& ns, const std::string& name,
                const client::DeleteOptions& options) override {
    return inner_.Delete(r, ns, name, options);
  }
  Result<std::unique_ptr<client::WatchStream>> Watch(const client::Resource& r, const std::string& ns, int64_t rv,
                                                     const client::ListOptions& options) override {
    return inner_.Watch(r, ns, rv, options);
  }

 private:
  client::Client& inner_;
};

class RecordEventTest : public ClientFixture {
 protected:
  // A Pod-like object with a uid unique to the test, so that Events recorded by other tests in
  // this process never match.
  Json Object() const {
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", "web-0"},
              {"namespace", "demo"},
              {"uid", std::string("uid-") + ::testing::UnitTest::GetInstance()->current_test_info()->name()}}}};
  }

  std::vector<Json> Events() {
    auto listed = client_->List(client::resources::kEvents, "demo", {});
    EXPECT_TRUE(listed.ok()) << listed.status().message();
    return listed.ok() ? listed->items : std::vector<Json>{};
  }
};

TEST_F(RecordEventTest, RepeatRaisesCountWithoutListingEvents) {
  CountingClient counting(*client_);
  const client::EventSpec spec{"Warning", "BackOff", "Back-off restarting failed container", "kubelet"};
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client::RecordEvent(counting, clock_, Object(), spec).ok());
    clock_.Advance(std::chrono::seconds(5));
  }
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 3);
  EXPECT_EQ(events[0]["firstTimestamp"], "2026-12-04T10:00:00Z");
  EXPECT_EQ(events[0]["lastTimestamp"], "2026-12-04T10:00:10Z");
  EXPECT_EQ(counting.event_lists, 0);
}

TEST_F(RecordEventTest, OtherMessageStartsAnotherEvent) {
  ASSERT_TRUE(client::RecordEvent(*client_, clock_, Object(), {"Normal", "Pulled", "image a", "kubelet"}).ok());
  ASSERT_TRUE(client::RecordEvent(*client_, clock_, Object(), {"Normal", "Pulled", "image b", "kubelet"}).ok());
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["count"], 1);
  EXPECT_EQ(events[1]["count"], 1);
}

TEST_F(RecordEventTest, DeletedEventIsRecordedAgainFromOne) {
  const client::EventSpec spec{"Normal", "Started", "Started container", "kubelet"};
  ASSERT_TRUE(client::RecordEvent(*client_, clock_, Object(), spec).ok());
  ASSERT_TRUE(client::RecordEvent(*client_, clock_, Object(), spec).ok());
  auto events = Events();
  ASSERT_EQ(events.size(), 1u);
  ASSERT_TRUE(client_
                  ->Delete(client::resources::kEvents, "demo", events[0]["metadata"]["name"].get<std::string>(),
                           {})
                  .ok());

  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(client::RecordEvent(*client_, clock_, Object(), spec).ok());
  events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["count"], 1);
}

}  // namespace
}  // namespace xblocks::testing
