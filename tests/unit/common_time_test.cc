#include "common/time.h"

#include <gtest/gtest.h>

#include <thread>

namespace xblocks {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

TimePoint At(int64_t unix_seconds) { return TimePoint(seconds(unix_seconds)); }

TEST(FormatRfc3339, UtcWholeSeconds) {
  EXPECT_EQ(FormatRfc3339(At(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatRfc3339(At(1700000000)), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339(At(1700000000) + milliseconds(999)), "2023-11-14T22:13:20Z");
  EXPECT_EQ(FormatRfc3339(At(951782400)), "2000-02-29T00:00:00Z");
}

TEST(FormatRfc3339, TruncatesBeforeEpochTowardPast) {
  EXPECT_EQ(FormatRfc3339(At(-1)), "1969-12-31T23:59:59Z");
  EXPECT_EQ(FormatRfc3339(At(0) - milliseconds(1)), "1969-12-31T23:59:59Z");
}

TEST(ParseRfc3339, Basic) {
  auto parsed = ParseRfc3339("2023-11-14T22:13:20Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, At(1700000000));
}

TEST(ParseRfc3339, FractionalSeconds) {
  auto parsed = ParseRfc3339("2023-11-14T22:13:20.123456Z");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed - At(1700000000), std::chrono::microseconds(123456));

  auto long_fraction = ParseRfc3339("2023-11-14T22:13:20.1234567891234Z");
  ASSERT_TRUE(long_fraction.has_value());
  EXPECT_EQ(*long_fraction - At(1700000000), nanoseconds(123456789));
}

TEST(ParseRfc3339, Offsets) {
  auto east = ParseRfc3339("2023-11-15T06:13:20+08:00");
  ASSERT_TRUE(east.has_value());
  EXPECT_EQ(*east, At(1700000000));

  auto west = ParseRfc3339("2023-11-14T17:43:20-04:30");
  ASSERT_TRUE(west.has_value());
  EXPECT_EQ(*west, At(1700000000));

  auto lower = ParseRfc3339("2023-11-14t22:13:20z");
  ASSERT_TRUE(lower.has_value());
  EXPECT_EQ(*lower, At(1700000000));
}

TEST(ParseRfc3339, RoundTripsFormat) {
  for (int64_t t : {0LL, 1LL, 951782400LL, 1700000000LL, 4102444799LL, -86400LL}) {
    auto parsed = ParseRfc3339(FormatRfc3339(At(t)));
    ASSERT_TRUE(parsed.has_value()) << t;
    EXPECT_EQ(*parsed, At(t));
  }
}

TEST(ParseRfc3339, RejectsMalformed) {
  for (const char* text : {"", "2023-11-14", "2023-11-14T22:13:20", "2023-11-14 22:13:20Z",
                           "2023-11-14T22:13Z", "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20ZZ",
                           "2023-11-14T22:13:20+0800", "2023-11-14T22:13:20+08", "23-11-14T22:13:20Z",
                           " 2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z ", "2023-1-14T22:13:20Z",
                           "2023-11-14T22:13:20+8:00", "abcd-ef-ghTij:kl:mnZ"}) {
    EXPECT_FALSE(ParseRfc3339(text).has_value()) << text;
  }
}

TEST(ParseRfc3339, RejectsOutOfRangeFields) {
  for (const char* text : {"2023-13-01T00:00:00Z", "2023-00-01T00:00:00Z", "2023-02-29T00:00:00Z",
                           "2023-04-31T00:00:00Z", "2023-01-00T00:00:00Z", "2023-01-01T24:00:00Z",
                           "2023-01-01T00:60:00Z", "2023-01-01T00:00:60Z", "2023-01-01T00:00:00+24:00",
                           "2023-01-01T00:00:00+01:60"}) {
    EXPECT_FALSE(ParseRfc3339(text).has_value()) << text;
  }
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
}

TEST(ParseRfc3339, RejectsUnrepresentableYears) {
  // Go's zero time, which Go clients may send, is outside system_clock's range.
  EXPECT_FALSE(ParseRfc3339("0001-01-01T00:00:00Z").has_value());
  EXPECT_FALSE(ParseRfc3339("9999-12-31T23:59:59Z").has_value());
  EXPECT_TRUE(ParseRfc3339("2200-01-01T00:00:00Z").has_value());
}

struct DurationCase {
  int64_t seconds;
  const char* expected;
};

TEST(HumanDuration, FollowsKubectlRule) {
  const int64_t minute = 60, hour = 3600, day = 86400, year = 365 * day;
  const DurationCase cases[] = {
      {-100, "<invalid>"},
      {-2, "<invalid>"},
      {-1, "0s"},
      {0, "0s"},
      {1, "1s"},
      {119, "119s"},
      {120, "2m"},
      {121, "2m1s"},
      {9 * minute + 59, "9m59s"},
      {10 * minute, "10m"},
      {10 * minute + 30, "10m"},
      {179 * minute + 59, "179m"},
      {3 * hour, "3h"},
      {3 * hour + 5 * minute, "3h5m"},
      {7 * hour + 59 * minute + 59, "7h59m"},
      {8 * hour, "8h"},
      {8 * hour + 59 * minute, "8h"},
      {47 * hour + 59 * minute, "47h"},
      {48 * hour, "2d"},
      {2 * day + 5 * hour, "2d5h"},
      {7 * day + 23 * hour, "7d23h"},
      {8 * day, "8d"},
      {8 * day + 23 * hour, "8d"},
      {729 * day, "729d"},
      {730 * day, "2y"},
      {2 * year + 10 * day, "2y10d"},
      {7 * year + 364 * day, "7y364d"},
      {8 * year, "8y"},
      {100 * year + 100 * day, "100y"},
  };
  for (const DurationCase& c : cases) {
    EXPECT_EQ(HumanDuration(seconds(c.seconds)), c.expected) << c.seconds << "s";
  }
}

TEST(FakeClock, SetAndAdvance) {
  FakeClock clock(At(100));
  EXPECT_EQ(clock.Now(), At(100));
  clock.Advance(seconds(5));
  EXPECT_EQ(clock.Now(), At(105));
  clock.Set(At(7));
  EXPECT_EQ(clock.Now(), At(7));
}

TEST(FakeClock, UsableThroughClockInterface) {
  FakeClock fake(At(42));
  const Clock& clock = fake;
  EXPECT_EQ(clock.Now(), At(42));
}

TEST(SystemClock, ReturnsCurrentTime) {
  SystemClock clock;
  TimePoint before = std::chrono::system_clock::now();
  TimePoint now = clock.Now();
  EXPECT_GE(now, before);
  EXPECT_LT(now - before, minutes(1));
}

}  // namespace
}  // namespace xblocks
