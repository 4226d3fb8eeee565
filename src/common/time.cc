#include "common/time.h"

#include <fmt/format.h>

#include <cstdint>
#include <limits>

namespace xblocks {
namespace {

using std::chrono::days;
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A cursor over the timestamp text that reads fixed-width fields.
class FieldReader {
 public:
  explicit FieldReader(std::string_view text) : text_(text) {}

  // Reads exactly `width` decimal digits.
  std::optional<int> Digits(size_t width) {
    if (pos_ + width > text_.size()) return std::nullopt;
    int value = 0;
    for (size_t i = 0; i < width; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return std::nullopt;
      value = value * 10 + (c - '0');
    }
    pos_ += width;
    return value;
  }

  // Consumes one character if it is one of `choices`, and returns it.
  std::optional<char> OneOf(std::string_view choices) {
    if (pos_ >= text_.size() || choices.find(text_[pos_]) == std::string_view::npos) {
      return std::nullopt;
    }
    return text_[pos_++];
  }

  // Reads a fraction of a second after '.', keeping nanosecond precision.
  std::optional<int64_t> FractionNanos() {
    size_t start = pos_;
    int64_t nanos = 0;
    int64_t scale = 100'000'000;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      nanos += (text_[pos_] - '0') * scale;
      scale /= 10;
      ++pos_;
    }
    if (pos_ == start) return std::nullopt;
    return nanos;
  }

  bool AtEnd() const { return pos_ == text_.size(); }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct Rfc3339Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int64_t fraction_nanos = 0;
  int offset_minutes = 0;  // east of UTC
};

// Reads "Z" or "+hh:mm"/"-hh:mm" into minutes east of UTC.
std::optional<int> ReadOffset(FieldReader& reader) {
  std::optional<char> sign = reader.OneOf("Zz+-");
  if (!sign) return std::nullopt;
  if (*sign == 'Z' || *sign == 'z') return 0;
  std::optional<int> offset_hours = reader.Digits(2);
  if (!offset_hours || !reader.OneOf(":")) return std::nullopt;
  std::optional<int> offset_minutes = reader.Digits(2);
  if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) return std::nullopt;
  int total = *offset_hours * 60 + *offset_minutes;
  return *sign == '-' ? -total : total;
}

std::optional<Rfc3339Fields> ReadFields(std::string_view text) {
  FieldReader reader(text);
  Rfc3339Fields f;
  std::optional<int> year = reader.Digits(4);
  if (!year || !reader.OneOf("-")) return std::nullopt;
  std::optional<int> month = reader.Digits(2);
  if (!month || !reader.OneOf("-")) return std::nullopt;
  std::optional<int> day = reader.Digits(2);
  if (!day || !reader.OneOf("Tt")) return std::nullopt;
  std::optional<int> hour = reader.Digits(2);
  if (!hour || !reader.OneOf(":")) return std::nullopt;
  std::optional<int> minute = reader.Digits(2);
  if (!minute || !reader.OneOf(":")) return std::nullopt;
  std::optional<int> second = reader.Digits(2);
  if (!second) return std::nullopt;
  if (reader.OneOf(".")) {
    std::optional<int64_t> fraction = reader.FractionNanos();
    if (!fraction) return std::nullopt;
    f.fraction_nanos = *fraction;
  }
  std::optional<int> offset = ReadOffset(reader);
  if (!offset || !reader.AtEnd()) return std::nullopt;
  f.year = *year, f.month = *month, f.day = *day;
  f.hour = *hour, f.minute = *minute, f.second = *second;
  f.offset_minutes = *offset;
  return f;
}

}  // namespace

std::string FormatRfc3339(TimePoint time) {
  auto whole_seconds = std::chrono::floor<seconds>(time);
  auto day = std::chrono::floor<days>(whole_seconds);
  std::chrono::year_month_day date(day);
  std::chrono::hh_mm_ss<seconds> clock_time(whole_seconds - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock_time.hours().count(), clock_time.minutes().count(),
                     clock_time.seconds().count());
}

std::optional<TimePoint> ParseRfc3339(std::string_view text) {
  std::optional<Rfc3339Fields> f = ReadFields(text);
  if (!f) return std::nullopt;
  if (f->hour > 23 || f->minute > 59 || f->second > 59) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year(f->year),
                                   std::chrono::month(static_cast<unsigned>(f->month)),
                                   std::chrono::day(static_cast<unsigned>(f->day))};
  if (!date.ok()) return std::nullopt;

  // Work in seconds first, which cannot overflow for 4-digit years, then check that the
  // instant fits system_clock's nanosecond range.
  seconds since_epoch = std::chrono::sys_days(date).time_since_epoch() + hours(f->hour) +
                        minutes(f->minute) + seconds(f->second) - minutes(f->offset_minutes);
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
  if (since_epoch.count() > kMaxSeconds || since_epoch.count() < -kMaxSeconds) return std::nullopt;
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(
      since_epoch + nanoseconds(f->fraction_nanos)));
}

std::string HumanDuration(seconds elapsed) {
  const int64_t s = elapsed.count();
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return fmt::format("{}s", s);

  const int64_t total_minutes = s / 60;
  if (total_minutes < 10) {
    if (s % 60 == 0) return fmt::format("{}m", total_minutes);
    return fmt::format("{}m{}s", total_minutes, s % 60);
  }
  if (total_minutes < 180) return fmt::format("{}m", total_minutes);

  const int64_t total_hours = s / 3600;
  if (total_hours < 8) {
    if (total_minutes % 60 == 0) return fmt::format("{}h", total_hours);
    return fmt::format("{}h{}m", total_hours, total_minutes % 60);
  }
  if (total_hours < 48) return fmt::format("{}h", total_hours);
  if (total_hours < 24 * 8) {
    if (total_hours % 24 == 0) return fmt::format("{}d", total_hours / 24);
    return fmt::format("{}d{}h", total_hours / 24, total_hours % 24);
  }

  const int64_t total_days = total_hours / 24;
  if (total_days < 365 * 2) return fmt::format("{}d", total_days);
  const int64_t years = total_days / 365;
  if (years < 8) {
    if (total_days % 365 == 0) return fmt::format("{}y", years);
    return fmt::format("{}y{}d", years, total_days % 365);
  }
  return fmt::format("{}y", years);
}

}  // namespace xblocks
