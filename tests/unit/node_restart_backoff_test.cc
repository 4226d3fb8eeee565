#include "node/restart_backoff.h"

#include <gtest/gtest.h>

namespace xblocks {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// Starts the container, lets it run for `run`, and records its exit.
void CrashAfter(FakeClock& clock, RestartBackoff& backoff, seconds run) {
  backoff.RecordStart();
  clock.Advance(run);
  backoff.RecordExit();
}

TEST(RestartBackoff, NoDelayBeforeFirstExit) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock);
  EXPECT_FALSE(backoff.InBackOff());
  EXPECT_EQ(backoff.Delay(), seconds(0));
  EXPECT_EQ(backoff.Remaining(), seconds(0));
}

TEST(RestartBackoff, DoublesFromTenSecondsToFiveMinutes) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock);
  std::vector<int64_t> delays;
  for (int i = 0; i < 8; ++i) {
    CrashAfter(clock, backoff, seconds(1));
    delays.push_back(backoff.Delay().count());
    clock.Advance(backoff.Delay());
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{10, 20, 40, 80, 160, 300, 300, 300}));
}

TEST(RestartBackoff, WaitsUntilDelayPasses) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock);
  CrashAfter(clock, backoff, seconds(1));
  EXPECT_TRUE(backoff.InBackOff());
  EXPECT_EQ(backoff.Remaining(), seconds(10));
  EXPECT_EQ(backoff.NextStart(), TimePoint(seconds(1011)));

  clock.Advance(milliseconds(9500));
  EXPECT_TRUE(backoff.InBackOff());
  EXPECT_EQ(backoff.Remaining(), seconds(1));  // rounded up
  clock.Advance(milliseconds(500));
  EXPECT_FALSE(backoff.InBackOff());
  EXPECT_EQ(backoff.Remaining(), seconds(0));
}

TEST(RestartBackoff, ResetsAfterTenMinuteRun) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock);
  for (int i = 0; i < 5; ++i) {
    CrashAfter(clock, backoff, seconds(1));
    clock.Advance(backoff.Delay());
  }
  ASSERT_EQ(backoff.Delay(), seconds(160));

  CrashAfter(clock, backoff, minutes(10));
  EXPECT_EQ(backoff.Delay(), seconds(10));
}

TEST(RestartBackoff, RunJustUnderTenMinutesKeepsDoubling) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock);
  CrashAfter(clock, backoff, seconds(1));
  clock.Advance(backoff.Delay());
  CrashAfter(clock, backoff, minutes(10) - seconds(1));
  EXPECT_EQ(backoff.Delay(), seconds(20));
}

TEST(RestartBackoff, ExitWithoutStartCountsAsShortRun) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock);
  backoff.RecordExit();
  clock.Advance(minutes(30));
  backoff.RecordExit();
  EXPECT_EQ(backoff.Delay(), seconds(20));
}

TEST(RestartBackoff, HonorsOptions) {
  FakeClock clock(TimePoint(seconds(1000)));
  RestartBackoff backoff(clock, RestartBackoffOptions{seconds(1), seconds(3), seconds(60)});
  std::vector<int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    CrashAfter(clock, backoff, seconds(1));
    delays.push_back(backoff.Delay().count());
  }
  EXPECT_EQ(delays, (std::vector<int64_t>{1, 2, 3, 3}));
}

}  // namespace
}  // namespace xblocks
