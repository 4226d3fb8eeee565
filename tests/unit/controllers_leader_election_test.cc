// LeaderElector over a real registry: creating, renewing, taking over an expired Lease, releasing
// it, the create race, and a leader that loses the Lease.
#include <atomic>
#include <thread>

#include "client/leader_election.h"
#include "controllers_framework_test_support.h"

namespace xblocks::testing {
namespace {

using client::LeaderElector;
using client::LeaderElectionOptions;
using namespace std::chrono_literals;

LeaderElectionOptions Options(const std::string& identity, std::chrono::milliseconds lease = 500ms) {
  LeaderElectionOptions options;
  options.lease_namespace = "demo";
  options.lease_name = "operator";
  options.identity = identity;
  options.lease_duration = lease;
  options.renew_deadline = 400ms;
  options.retry_period = 50ms;
  return options;
}

class LeaderElection : public ClientFixture {
 protected:
  Json Lease() {
    auto lease = client_->Get(client::resources::kLeases, "demo", "operator");
    EXPECT_TRUE(lease.ok()) << lease.status().message();
    return lease.ok() ? *lease : Json();
  }
};

TEST_F(LeaderElection, FirstCandidateCreatesLease) {
  LeaderElector first(*client_, Options("first"));

  ASSERT_TRUE(first.TryAcquireOrRenew());

  Json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "first");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 0);
  EXPECT_EQ(lease["spec"]["leaseDurationSeconds"], 1);
}

TEST_F(LeaderElection, HolderRenewsAndOthersWait) {
  LeaderElector first(*client_, Options("first"));
  LeaderElector second(*client_, Options("second"));
  ASSERT_TRUE(first.TryAcquireOrRenew());
  const std::string renewed_before = Lease()["spec"]["renewTime"];
  std::this_thread::sleep_for(5ms);

  EXPECT_FALSE(second.TryAcquireOrRenew());
  EXPECT_TRUE(first.TryAcquireOrRenew());
  EXPECT_FALSE(second.TryAcquireOrRenew());

  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "first");
  EXPECT_NE(Lease()["spec"]["renewTime"], renewed_before);
  EXPECT_EQ(second.observed_holder(), "first");
}

TEST_F(LeaderElection, ExpiredLeaseIsTakenOver) {
  LeaderElector first(*client_, Options("first"));
  LeaderElector second(*client_, Options("second"));
  ASSERT_TRUE(first.TryAcquireOrRenew());
  ASSERT_FALSE(second.TryAcquireOrRenew());

  // The holder stops renewing, so the record stays unchanged for longer than the lease duration.
  std::this_thread::sleep_for(600ms);

  ASSERT_TRUE(second.TryAcquireOrRenew());
  Json lease = Lease();
  EXPECT_EQ(lease["spec"]["holderIdentity"], "second");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  EXPECT_FALSE(first.TryAcquireOrRenew());
}

TEST_F(LeaderElection, ReleaseLetsOthersTakeOverAtOnce) {
  auto first = std::make_unique<LeaderElector>(*client_, Options("first", 60000ms));
  LeaderElector second(*client_, Options("second", 60000ms));
  std::atomic<bool> started{false};
  first->Run([&] { started = true; }, [] {});
  for (int i = 0; i < 100 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started.load());
  ASSERT_FALSE(second.TryAcquireOrRenew());

  first->Release();

  EXPECT_EQ(Lease()["spec"]["holderIdentity"], "");
  EXPECT_TRUE(second.TryAcquireOrRenew());
}

TEST_F(LeaderElection, OnlyOneOfRacingCandidatesWins) {
  std::vector<std::unique_ptr<LeaderElector>> candidates;
  for (int i = 0; i < 4; ++i) {
    candidates.push_back(std::make_unique<LeaderElector>(*client_, Options("candidate-" + std::to_string(i))));
  }
  std::atomic<int> winners{0};
  std::vector<std::thread> threads;
  for (auto& candidate : candidates) {
    threads.emplace_back([&winners, &candidate] { winners += candidate->TryAcquireOrRenew() ? 1 : 0; });
  }
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(winners.load(), 1);
}

TEST_F(LeaderElection, LeaderThatCannotRenewStops) {
  LeaderElector leader(*client_, Options("leader"));
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  leader.Run([&] { started = true; }, [&] { stopped = true; });
  for (int i = 0; i < 100 && !started; ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(started.load());

  // Another writer keeps claiming the Lease with a fresh record, so every renewal fails.
  for (int i = 0; i < 100 && !stopped; ++i) {
    Json lease = Lease();
    lease["spec"]["holderIdentity"] = "intruder";
    lease["spec"]["renewTime"] = "2026-12-04T10:00:0" + std::to_string(i % 10) + ".000000Z";
    (void)client_->Update(client::resources::kLeases, lease);
    std::this_thread::sleep_for(20ms);
  }

  EXPECT_TRUE(stopped.load());
  EXPECT_FALSE(leader.leading());
}

}  // namespace
}  // namespace xblocks::testing
