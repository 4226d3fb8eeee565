#include "api/yaml_scalar.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <optional>

namespace xblocks::api {
namespace {

constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

bool IsIn(std::string_view value, std::initializer_list<std::string_view> choices) {
  for (std::string_view choice : choices) {
    if (value == choice) return true;
  }
  return false;
}

bool IsNullWord(std::string_view v) { return IsIn(v, {"", "~", "null", "Null", "NULL"}); }

std::optional<bool> BoolWord(std::string_view v) {
  if (IsIn(v, {"true", "True", "TRUE"})) return true;
  if (IsIn(v, {"false", "False", "FALSE"})) return false;
  return std::nullopt;
}

bool AllOf(std::string_view text, bool (*predicate)(char)) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!predicate(c)) return false;
  }
  return true;
}

bool IsDecimalDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctalDigit(char c) { return c >= '0' && c <= '7'; }
bool IsHexDigit(char c) { return IsDecimalDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string_view StripPlus(std::string_view v) { return !v.empty() && v[0] == '+' ? v.substr(1) : v; }

// Integers that fit int64 or uint64 become numbers; nullopt otherwise.
std::optional<Json> ParseInteger(std::string_view digits, int base) {
  int64_t signed_value = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), signed_value, base);
  if (error == std::errc() && end == digits.data() + digits.size()) return Json(signed_value);
  uint64_t unsigned_value = 0;
  auto [uend, uerror] = std::from_chars(digits.data(), digits.data() + digits.size(), unsigned_value, base);
  if (uerror == std::errc() && uend == digits.data() + digits.size()) return Json(unsigned_value);
  return std::nullopt;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool LooksLikeFloat(std::string_view v) {
  size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
  size_t integer_start = i;
  while (i < v.size() && IsDecimalDigit(v[i])) ++i;
  size_t integer_digits = i - integer_start;
  size_t fraction_digits = 0;
  if (i < v.size() && v[i] == '.') {
    size_t fraction_start = ++i;
    while (i < v.size() && IsDecimalDigit(v[i])) ++i;
    fraction_digits = i - fraction_start;
  }
  if (integer_digits == 0 && fraction_digits == 0) return false;
  if (i < v.size() && (v[i] == 'e' || v[i] == 'E')) {
    ++i;
    if (i < v.size() && (v[i] == '-' || v[i] == '+')) ++i;
    size_t exponent_start = i;
    while (i < v.size() && IsDecimalDigit(v[i])) ++i;
    if (i == exponent_start) return false;
  }
  return i == v.size();
}

bool IsInfinityWord(std::string_view v) {
  return IsIn(StripPlus(v.substr(0, 1) == "-" ? v.substr(1) : v), {".inf", ".Inf", ".INF"});
}

bool IsNanWord(std::string_view v) { return IsIn(v, {".nan", ".NaN", ".NAN"}); }

// A finite double, or nullopt when the text overflows a double.
std::optional<double> ParseFloat(std::string_view v) {
  std::string_view text = StripPlus(v);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::optional<Json> ResolveNumber(std::string_view v) {
  std::string_view unsigned_part = StripPlus(v);
  bool negative = !v.empty() && v[0] == '-';
  if (AllOf(negative ? v.substr(1) : unsigned_part, IsDecimalDigit)) {
    if (std::optional<Json> integer = ParseInteger(negative ? v : unsigned_part, 10)) return integer;
  }
  if (v.size() > 2 && v.substr(0, 2) == "0x" && AllOf(v.substr(2), IsHexDigit)) return ParseInteger(v.substr(2), 16);
  if (v.size() > 2 && v.substr(0, 2) == "0o" && AllOf(v.substr(2), IsOctalDigit)) return ParseInteger(v.substr(2), 8);
  if (LooksLikeFloat(v)) {
    if (std::optional<double> number = ParseFloat(v)) return Json(*number);
  }
  return std::nullopt;  // includes decimals too large for a double, which stay strings
}

Status NotRepresentable(std::string_view value) {
  return BadRequest(fmt::format("the value {} cannot be represented in JSON; quote it to make it a string", value));
}

Result<Json> ResolvePlain(const std::string& value) {
  if (IsNullWord(value)) return Json(nullptr);
  if (std::optional<bool> boolean = BoolWord(value)) return Json(*boolean);
  if (IsInfinityWord(value) || IsNanWord(value)) return NotRepresentable(value);
  if (std::optional<Json> number = ResolveNumber(value)) return *number;
  return Json(value);
}

Status TagMismatch(std::string_view tag, std::string_view value) {
  return BadRequest(fmt::format("the value \"{}\" does not fit the tag !!{}", value, tag));
}

Result<Json> ResolveTagged(std::string_view tag, const std::string& value) {
  if (tag == "null") {
    if (IsNullWord(value)) return Json(nullptr);
    return TagMismatch(tag, value);
  }
  if (tag == "bool") {
    if (std::optional<bool> boolean = BoolWord(value)) return Json(*boolean);
    return TagMismatch(tag, value);
  }
  if (tag == "int" || tag == "float") {
    if (IsInfinityWord(value) || IsNanWord(value)) return NotRepresentable(value);
    std::optional<Json> number = ResolveNumber(value);
    if (!number || (tag == "int" && !number->is_number_integer())) return TagMismatch(tag, value);
    if (tag == "float") return Json(number->get<double>());
    return *number;
  }
  return Json(value);  // !!str, !!binary, !!timestamp and unknown tags keep the text
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xE ? 3 : (byte >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    uint32_t code = length == 1 ? byte : byte & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code = (code << 6) | (next & 0x3F);
    }
    // Reject overlong forms, surrogates and values beyond U+10FFFF.
    static constexpr uint32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return false;
    i += length;
  }
  return true;
}

Result<Json> ResolveYamlScalar(std::string_view tag, const std::string& value) {
  if (!IsValidUtf8(value)) return BadRequest("invalid UTF-8 in a scalar");
  if (tag == "?") return ResolvePlain(value);
  if (tag == "!" || tag.empty()) return Json(value);
  if (tag.substr(0, kTagPrefix.size()) == kTagPrefix) return ResolveTagged(tag.substr(kTagPrefix.size()), value);
  if (tag.substr(0, 2) == "!!") return ResolveTagged(tag.substr(2), value);
  return Json(value);
}

}  // namespace xblocks::api
