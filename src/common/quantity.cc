#include "common/quantity.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>

namespace xblocks {
namespace {

constexpr __int128 kNanosPerUnit = 1'000'000'000;
constexpr __int128 kNanosPerMilli = 1'000'000;
// The largest magnitude accepted: INT64_MAX whole units, so Value() always fits in int64.
constexpr __int128 kMaxNanos = static_cast<__int128>(std::numeric_limits<int64_t>::max()) * kNanosPerUnit;
// Decimal digits that always fit in a signed __int128 (its maximum is about 1.7e38).
constexpr size_t kMaxInt128Digits = 38;
// Exponents are clamped to this magnitude while parsing; anything beyond over- or underflows.
constexpr int64_t kExponentClamp = 1'000'000'000'000;
// Inputs are echoed in messages only up to this length.
constexpr size_t kMaxEchoLength = 64;

// The parts of a quantity string: [sign] digits [. fraction] [suffix].
struct QuantityParts {
  bool negative = false;
  std::string_view integer_digits;
  std::string_view fraction_digits;
  std::string_view suffix;
};

// The meaning of a suffix: value = number * 2^(10 * binary_power) * 10^decimal_exponent.
struct SuffixValue {
  int binary_power = 0;
  int64_t decimal_exponent = 0;
  QuantityFormat format = QuantityFormat::kDecimalSI;
};

std::string Echo(std::string_view text) {
  if (text.size() <= kMaxEchoLength) return fmt::format("\"{}\"", text);
  return fmt::format("\"{}...\" ({} bytes)", text.substr(0, kMaxEchoLength), text.size());
}

Status SyntaxError(std::string_view text, std::string_view problem) {
  return BadRequest(fmt::format(
      "invalid quantity {}: {}; write a number with an optional suffix, such as 500m, 2Gi or 1e3",
      Echo(text), problem));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t CountDigits(std::string_view text, size_t start) {
  size_t end = start;
  while (end < text.size() && IsDigit(text[end])) ++end;
  return end - start;
}

// Splits `text` into sign, digits and suffix. The suffix is checked separately.
std::optional<QuantityParts> SplitQuantity(std::string_view text) {
  QuantityParts parts;
  size_t pos = 0;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    parts.negative = text[pos] == '-';
    ++pos;
  }
  size_t integer_count = CountDigits(text, pos);
  parts.integer_digits = text.substr(pos, integer_count);
  pos += integer_count;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t fraction_count = CountDigits(text, pos);
    parts.fraction_digits = text.substr(pos, fraction_count);
    pos += fraction_count;
  }
  if (parts.integer_digits.empty() && parts.fraction_digits.empty()) return std::nullopt;
  parts.suffix = text.substr(pos);
  return parts;
}

// Parses the signed integer after 'e' or 'E', clamping its magnitude to kExponentClamp.
std::optional<int64_t> ParseExponent(std::string_view digits) {
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty() || CountDigits(digits, 0) != digits.size()) return std::nullopt;
  int64_t value = 0;
  for (char c : digits) value = std::min(kExponentClamp, value * 10 + (c - '0'));
  return negative ? -value : value;
}

std::optional<SuffixValue> InterpretSuffix(std::string_view suffix) {
  static constexpr std::string_view kBinary = "KMGTPE";
  if (suffix.size() == 2 && suffix[1] == 'i' && kBinary.find(suffix[0]) != std::string_view::npos) {
    int power = static_cast<int>(kBinary.find(suffix[0])) + 1;
    return SuffixValue{power, 0, QuantityFormat::kBinarySI};
  }
  static constexpr std::array<std::pair<std::string_view, int>, 10> kDecimal = {{
      {"", 0}, {"n", -9}, {"u", -6}, {"m", -3}, {"k", 3},
      {"M", 6}, {"G", 9}, {"T", 12}, {"P", 15}, {"E", 18},
  }};
  for (const auto& [name, exponent] : kDecimal) {
    if (suffix == name) return SuffixValue{0, exponent, QuantityFormat::kDecimalSI};
  }
  if (suffix[0] == 'e' || suffix[0] == 'E') {
    std::optional<int64_t> exponent = ParseExponent(suffix.substr(1));
    if (!exponent) return std::nullopt;
    return SuffixValue{0, *exponent, QuantityFormat::kDecimalExponent};
  }
  return std::nullopt;
}

// Multiplies a decimal digit string in place by a small factor.
void MultiplyDigits(std::string& digits, int factor) {
  int carry = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int product = (*it - '0') * factor + carry;
    *it = static_cast<char>('0' + product % 10);
    carry = product / 10;
  }
  while (carry > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
    carry /= 10;
  }
}

__int128 DigitsToInt128(std::string_view digits) {
  __int128 value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

// Computes ceil(digits * 10^shift), where `digits` has no leading zeros. Returns nullopt when
// the result exceeds kMaxNanos.
std::optional<__int128> ScaleRoundingUp(std::string_view digits, int64_t shift) {
  if (digits.empty()) return 0;
  if (shift >= 0) {
    if (digits.size() + static_cast<uint64_t>(shift) > kMaxInt128Digits) return std::nullopt;
    __int128 value = DigitsToInt128(digits);
    for (int64_t i = 0; i < shift; ++i) value *= 10;
    if (value > kMaxNanos) return std::nullopt;
    return value;
  }
  uint64_t dropped = static_cast<uint64_t>(-shift);
  if (dropped >= digits.size()) return 1;  // a non-zero value finer than 1n rounds up to 1n
  std::string_view kept = digits.substr(0, digits.size() - dropped);
  if (kept.size() > kMaxInt128Digits) return std::nullopt;
  __int128 value = DigitsToInt128(kept);
  std::string_view rest = digits.substr(kept.size());
  if (rest.find_first_not_of('0') != std::string_view::npos) ++value;
  if (value > kMaxNanos) return std::nullopt;
  return value;
}

std::string Int128ToString(__int128 value) {
  if (value == 0) return "0";
  bool negative = value < 0;
  unsigned __int128 magnitude = negative ? -static_cast<unsigned __int128>(value) : value;
  std::string out;
  while (magnitude > 0) {
    out.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  if (negative) out.push_back('-');
  std::reverse(out.begin(), out.end());
  return out;
}

// Divides rounding away from zero, as Kubernetes rounds quantities.
__int128 DivideAwayFromZero(__int128 value, __int128 divisor) {
  __int128 quotient = value / divisor;
  if (value % divisor == 0) return quotient;
  return value > 0 ? quotient + 1 : quotient - 1;
}

std::string DecimalSuffix(int64_t exponent, QuantityFormat format) {
  if (exponent == 0) return "";
  if (format == QuantityFormat::kDecimalExponent) return fmt::format("e{}", exponent);
  switch (exponent) {
    case -9: return "n";
    case -6: return "u";
    case -3: return "m";
    case 3: return "k";
    case 6: return "M";
    case 9: return "G";
    case 12: return "T";
    case 15: return "P";
    case 18: return "E";
    default: return fmt::format("e{}", exponent);  // unreachable within the accepted range
  }
}

std::string CanonicalDecimal(__int128 nanos, QuantityFormat format) {
  __int128 mantissa = nanos;
  int64_t exponent = -9;
  while (mantissa % 10 == 0) {
    mantissa /= 10;
    ++exponent;
  }
  // Lower the exponent to a multiple of 3 so it has an SI suffix.
  while (exponent % 3 != 0) {
    mantissa *= 10;
    --exponent;
  }
  return Int128ToString(mantissa) + DecimalSuffix(exponent, format);
}

// Returns the BinarySI form, or nullopt when the value must print as DecimalSI instead.
std::optional<std::string> CanonicalBinary(__int128 nanos) {
  if (nanos % kNanosPerUnit != 0) return std::nullopt;
  __int128 units = nanos / kNanosPerUnit;
  if (units > -1024 && units < 1024) return std::nullopt;
  static constexpr std::array<const char*, 7> kSuffixes = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  size_t power = 0;
  while (power + 1 < kSuffixes.size() && units % 1024 == 0) {
    units /= 1024;
    ++power;
  }
  return Int128ToString(units) + kSuffixes[power];
}

}  // namespace

Quantity Quantity::FromMilli(int64_t milli) {
  return Quantity(static_cast<__int128>(milli) * kNanosPerMilli, QuantityFormat::kDecimalSI);
}

Quantity Quantity::FromValue(int64_t units, QuantityFormat format) {
  return Quantity(static_cast<__int128>(units) * kNanosPerUnit, format);
}

int64_t Quantity::MilliValue() const {
  __int128 milli = DivideAwayFromZero(nanos_, kNanosPerMilli);
  if (milli > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (milli < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(milli);
}

int64_t Quantity::Value() const {
  return static_cast<int64_t>(DivideAwayFromZero(nanos_, kNanosPerUnit));
}

std::string Quantity::CanonicalString() const {
  if (nanos_ == 0) return "0";
  if (format_ == QuantityFormat::kBinarySI) {
    std::optional<std::string> binary = CanonicalBinary(nanos_);
    if (binary) return *binary;
    return CanonicalDecimal(nanos_, QuantityFormat::kDecimalSI);
  }
  return CanonicalDecimal(nanos_, format_);
}

Result<Quantity> ParseQuantity(std::string_view text) {
  if (text.empty()) return SyntaxError(text, "the value is empty");
  std::optional<QuantityParts> parts = SplitQuantity(text);
  if (!parts) return SyntaxError(text, "it does not start with a number");
  std::optional<SuffixValue> suffix = InterpretSuffix(parts->suffix);
  if (!suffix) return SyntaxError(text, fmt::format("unknown suffix {}", Echo(parts->suffix)));

  // value = digits * 10^(exponent) * 1024^binary_power, with the fraction folded into digits.
  std::string digits(parts->integer_digits);
  digits.append(parts->fraction_digits);
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size()));
  for (int i = 0; i < suffix->binary_power && !digits.empty(); ++i) MultiplyDigits(digits, 1024);
  int64_t exponent = suffix->decimal_exponent - static_cast<int64_t>(parts->fraction_digits.size());

  std::optional<__int128> nanos = ScaleRoundingUp(digits, exponent + 9);
  if (!nanos) {
    return BadRequest(fmt::format("quantity {} is too large: the maximum magnitude is {} units",
                                  Echo(text), std::numeric_limits<int64_t>::max()));
  }
  return Quantity(parts->negative ? -*nanos : *nanos, suffix->format);
}

bool IsQuantityString(std::string_view text) { return ParseQuantity(text).ok(); }

}  // namespace xblocks
