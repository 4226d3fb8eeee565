#include <gtest/gtest.h>

#include "node/probes.h"

namespace xblocks {
namespace {

using std::chrono::seconds;

const ProbeResult kPass{ProbeOutcome::kSuccess, ""};
const ProbeResult kFail{ProbeOutcome::kFailure, "HTTP probe failed with statuscode: 500"};

ProbeSettings Settings(int initial_delay, int period, int success_threshold, int failure_threshold) {
  ProbeSettings settings;
  settings.initial_delay = seconds(initial_delay);
  settings.period = seconds(period);
  settings.success_threshold = success_threshold;
  settings.failure_threshold = failure_threshold;
  return settings;
}

TEST(ParseProbeSettings, AppliesDefaults) {
  Result<ProbeSettings> settings = ParseProbeSettings(Json::parse(R"({"httpGet": {"port": 80}})"));
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->initial_delay, seconds(0));
  EXPECT_EQ(settings->period, seconds(10));
  EXPECT_EQ(settings->timeout, seconds(1));
  EXPECT_EQ(settings->success_threshold, 1);
  EXPECT_EQ(settings->failure_threshold, 3);
}

TEST(ParseProbeSettings, ReadsFieldsAndTreatsZeroAsDefault) {
  Result<ProbeSettings> settings = ParseProbeSettings(Json::parse(
      R"({"initialDelaySeconds": 5, "periodSeconds": 0, "timeoutSeconds": 3, "successThreshold": 2, "failureThreshold": 0})"));
  ASSERT_TRUE(settings.ok());
  EXPECT_EQ(settings->initial_delay, seconds(5));
  EXPECT_EQ(settings->period, seconds(10));
  EXPECT_EQ(settings->timeout, seconds(3));
  EXPECT_EQ(settings->success_threshold, 2);
  EXPECT_EQ(settings->failure_threshold, 3);
}

TEST(ParseProbeSettings, RejectsBadValues) {
  for (const char* text : {R"({"periodSeconds": -1})", R"({"timeoutSeconds": "5"})", R"({"failureThreshold": 1.5})",
                           R"({"initialDelaySeconds": 99999999999})", R"({"successThreshold": 18446744073709551615})",
                           R"([1])"}) {
    Result<ProbeSettings> settings = ParseProbeSettings(Json::parse(text));
    EXPECT_EQ(settings.status().code(), StatusCode::kInvalid) << text;
  }
  Result<ProbeSettings> named = ParseProbeSettings(Json::parse(R"({"timeoutSeconds": "5"})"));
  EXPECT_NE(named.status().message().find("timeoutSeconds"), std::string::npos);
}

TEST(ProbeState, WaitsForInitialDelayThenPeriod) {
  FakeClock clock(TimePoint(seconds(100)));
  ProbeState state(Settings(5, 10, 1, 3), clock, clock.Now(), ProbeOutcome::kFailure);
  EXPECT_FALSE(state.Due());
  clock.Advance(seconds(4));
  EXPECT_FALSE(state.Due());
  clock.Advance(seconds(1));
  EXPECT_TRUE(state.Due());

  state.Record(kPass);
  EXPECT_FALSE(state.Due());
  EXPECT_EQ(state.NextProbeTime(), TimePoint(seconds(115)));
  clock.Advance(seconds(10));
  EXPECT_TRUE(state.Due());
}

TEST(ProbeState, ReadinessNeedsSuccessThreshold) {
  FakeClock clock(TimePoint(seconds(100)));
  ProbeState state(Settings(0, 1, 2, 3), clock, clock.Now(), ProbeOutcome::kFailure);
  state.Record(kPass);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kFailure);
  state.Record(kFail);
  state.Record(kPass);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kFailure);  // the failure reset the run of successes
  state.Record(kPass);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kSuccess);
  EXPECT_EQ(state.consecutive_successes(), 2);
}

TEST(ProbeState, LivenessFailsAfterFailureThreshold) {
  FakeClock clock(TimePoint(seconds(100)));
  ProbeState state(Settings(0, 1, 1, 3), clock, clock.Now(), ProbeOutcome::kSuccess);
  state.Record(kFail);
  state.Record(kFail);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kSuccess);
  state.Record(kPass);
  state.Record(kFail);
  state.Record(kFail);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kSuccess);
  state.Record(kFail);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kFailure);
  EXPECT_EQ(state.consecutive_failures(), 3);
  EXPECT_EQ(state.last_message(), "HTTP probe failed with statuscode: 500");

  state.Record(kPass);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kSuccess);
  EXPECT_EQ(state.last_message(), "");
}

TEST(ProbeState, UnknownCountsAsFailure) {
  FakeClock clock(TimePoint(seconds(100)));
  ProbeState state(Settings(0, 1, 1, 1), clock, clock.Now(), ProbeOutcome::kUnknown);
  EXPECT_EQ(state.verdict(), ProbeOutcome::kUnknown);
  state.Record(ProbeResult{ProbeOutcome::kUnknown, "exec probe has no process launcher"});
  EXPECT_EQ(state.verdict(), ProbeOutcome::kFailure);
  EXPECT_EQ(state.last_message(), "exec probe has no process launcher");
}

}  // namespace
}  // namespace xblocks
