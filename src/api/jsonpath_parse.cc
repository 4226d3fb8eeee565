// Parser for the JSONPath subset described in jsonpath.h.
#include <fmt/format.h>

#include <charconv>
#include <cctype>

#include "api/jsonpath.h"

namespace xblocks::api {
namespace {

using Step = JsonPath::Step;
using Filter = JsonPath::Filter;
using Comparison = JsonPath::Comparison;

Step MakeStep(JsonPath::StepKind kind) {
  Step step;
  step.kind = kind;
  return step;
}

bool IsNameEnd(char c) {
  return std::string_view(".[]()=!<>'\"").find(c) != std::string_view::npos ||
         std::isspace(static_cast<unsigned char>(c)) != 0;
}

class PathParser {
 public:
  // `in_filter` parses the operand of a filter, which ends at an operator or a space.
  PathParser(std::string_view text, bool in_filter) : text_(text), in_filter_(in_filter) {}

  Result<std::vector<Step>> ParseSteps() {
    std::vector<Step> steps;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (in_filter_ && (IsNameEnd(c) && c != '.' && c != '[')) break;
      Status status = Status::Ok();
      if (c == '.') {
        status = ParseDot(steps);
      } else if (c == '[') {
        status = ParseBracket(steps);
      } else {
        status = Error(fmt::format("unexpected character '{}'", c));
      }
      if (!status.ok()) return status;
    }
    return steps;
  }

  size_t pos() const { return pos_; }

 private:
  Status Error(std::string_view problem) const {
    return BadRequest(fmt::format("invalid JSONPath \"{}\" at offset {}: {}", text_, pos_, problem));
  }

  Status ParseDot(std::vector<Step>& steps) {
    ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '.') return Error("recursive descent (..) is not supported");
    if (pos_ < text_.size() && text_[pos_] == '*') {
      ++pos_;
      steps.push_back(MakeStep(JsonPath::StepKind::kWildcard));
      return Status::Ok();
    }
    size_t start = pos_;
    while (pos_ < text_.size() && !IsNameEnd(text_[pos_])) ++pos_;
    if (pos_ == start) {
      // A lone trailing '.' (as in "{.}") selects the current value.
      if (pos_ == text_.size() || (in_filter_ && IsNameEnd(text_[pos_]))) return Status::Ok();
      return Error("expected a field name after '.'");
    }
    Step step = MakeStep(JsonPath::StepKind::kField);
    step.field = std::string(text_.substr(start, pos_ - start));
    steps.push_back(std::move(step));
    return Status::Ok();
  }

  Status ParseBracket(std::vector<Step>& steps) {
    std::string_view rest = text_.substr(pos_);
    if (rest.substr(0, 3) == "[*]") {
      pos_ += 3;
      steps.push_back(MakeStep(JsonPath::StepKind::kWildcard));
      return Status::Ok();
    }
    if (rest.substr(0, 3) == "[?(") return ParseFilter(steps);
    if (rest.size() > 1 && (rest[1] == '\'' || rest[1] == '"')) return ParseQuotedField(steps);
    return ParseIndexOrSlice(steps);
  }

  Status ParseQuotedField(std::vector<Step>& steps) {
    char quote = text_[pos_ + 1];
    size_t close = text_.find(quote, pos_ + 2);
    if (close == std::string_view::npos || close + 1 >= text_.size() || text_[close + 1] != ']') {
      return Error("unterminated quoted field name");
    }
    Step step = MakeStep(JsonPath::StepKind::kField);
    step.field = std::string(text_.substr(pos_ + 2, close - pos_ - 2));
    steps.push_back(std::move(step));
    pos_ = close + 2;
    return Status::Ok();
  }

  // Reads an optional signed integer at pos_.
  Result<std::optional<int64_t>> ReadInt() {
    size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    if (pos_ == start) return std::optional<int64_t>();
    int64_t value = 0;
    auto [end, error] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (error != std::errc() || end != text_.data() + pos_) return Error("invalid array index");
    return std::optional<int64_t>(value);
  }

  Status ParseIndexOrSlice(std::vector<Step>& steps) {
    ++pos_;  // '['
    auto start = ReadInt();
    if (!start.ok()) return start.status();
    Step step = MakeStep(JsonPath::StepKind::kIndex);
    if (pos_ < text_.size() && text_[pos_] == ':') {
      ++pos_;
      auto end = ReadInt();
      if (!end.ok()) return end.status();
      step.kind = JsonPath::StepKind::kSlice;
      step.has_start = start->has_value();
      step.index = start->value_or(0);
      step.has_end = end->has_value();
      step.end = end->value_or(0);
    } else if (!start->has_value()) {
      return Error("expected an index, a slice, '*', a quoted name or a filter after '['");
    } else {
      step.index = **start;
    }
    if (pos_ >= text_.size() || text_[pos_] != ']') return Error("expected ']'");
    ++pos_;
    steps.push_back(std::move(step));
    return Status::Ok();
  }

  // Finds the ")]" that closes a filter, skipping quoted strings.
  size_t FindFilterEnd(size_t from) const {
    char quote = 0;
    for (size_t i = from; i + 1 < text_.size(); ++i) {
      char c = text_[i];
      if (quote != 0) {
        if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == ')' && text_[i + 1] == ']') {
        return i;
      }
    }
    return std::string_view::npos;
  }

  Status ParseFilter(std::vector<Step>& steps);

  std::string_view text_;
  bool in_filter_;
  size_t pos_ = 0;
};

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::optional<std::pair<Comparison, size_t>> ReadComparison(std::string_view text) {
  static constexpr std::pair<std::string_view, Comparison> kOperators[] = {
      {"==", Comparison::kEqual}, {"!=", Comparison::kNotEqual}, {"<=", Comparison::kLessEqual},
      {">=", Comparison::kGreaterEqual}, {"<", Comparison::kLess}, {">", Comparison::kGreater}};
  for (const auto& [symbol, comparison] : kOperators) {
    if (text.substr(0, symbol.size()) == symbol) return std::make_pair(comparison, symbol.size());
  }
  return std::nullopt;
}

// A literal on the right of a comparison: 'text', "text", true, false or a JSON number.
std::optional<Json> ParseLiteral(std::string_view text) {
  if (text.size() >= 2 && (text.front() == '\'' || text.front() == '"') && text.back() == text.front()) {
    return Json(std::string(text.substr(1, text.size() - 2)));
  }
  if (text == "true") return Json(true);
  if (text == "false") return Json(false);
  Json number = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (number.is_number()) return number;
  return std::nullopt;
}

// Parses "@path" at the start of `text`; returns the steps and how many characters they used.
Result<std::pair<std::vector<Step>, size_t>> ParseOperandPath(std::string_view text) {
  PathParser parser(text.substr(1), /*in_filter=*/true);
  auto steps = parser.ParseSteps();
  if (!steps.ok()) return steps.status();
  return std::make_pair(std::move(*steps), parser.pos() + 1);
}

Result<Filter> ParseFilterBody(std::string_view body, std::string_view whole) {
  auto error = [&](std::string_view problem) {
    return BadRequest(fmt::format("invalid JSONPath \"{}\": filter \"{}\": {}", whole, body, problem));
  };
  std::string_view text = TrimSpace(body);
  if (text.empty() || text[0] != '@') return error("the left side must start with '@'");
  auto left = ParseOperandPath(text);
  if (!left.ok()) return left.status();
  Filter filter;
  filter.left = std::move(left->first);
  text = TrimSpace(text.substr(left->second));
  if (text.empty()) return filter;  // [?(@.x)]: the field exists

  auto comparison = ReadComparison(text);
  if (!comparison) return error("expected one of == != < <= > >=");
  filter.comparison = comparison->first;
  text = TrimSpace(text.substr(comparison->second));
  if (!text.empty() && text[0] == '@') {
    auto right = ParseOperandPath(text);
    if (!right.ok()) return right.status();
    if (!TrimSpace(text.substr(right->second)).empty()) return error("unexpected text after the right side");
    filter.right_is_path = true;
    filter.right = std::move(right->first);
    return filter;
  }
  std::optional<Json> literal = ParseLiteral(text);
  if (!literal) return error("the right side must be a number, a quoted string, true, false or an @-path");
  filter.literal = std::move(*literal);
  return filter;
}

Status PathParser::ParseFilter(std::vector<Step>& steps) {
  size_t body_start = pos_ + 3;  // after "[?("
  size_t end = FindFilterEnd(body_start);
  if (end == std::string_view::npos) return Error("unterminated filter; expected ')]'");
  auto filter = ParseFilterBody(text_.substr(body_start, end - body_start), text_);
  if (!filter.ok()) return filter.status();
  Step step = MakeStep(JsonPath::StepKind::kFilter);
  step.filter.push_back(std::move(*filter));
  steps.push_back(std::move(step));
  pos_ = end + 2;
  return Status::Ok();
}

}  // namespace

Result<JsonPath> ParseJsonPath(std::string_view text) {
  std::string_view path = TrimSpace(text);
  if (path.size() >= 2 && path.front() == '{' && path.back() == '}') path = TrimSpace(path.substr(1, path.size() - 2));
  if (!path.empty() && path[0] == '$') path.remove_prefix(1);
  if (path.empty() || (path[0] != '.' && path[0] != '[')) {
    return BadRequest(fmt::format("invalid JSONPath \"{}\": a path starts with '.', '[' or '$', as in .status.phase", text));
  }
  auto steps = PathParser(path, /*in_filter=*/false).ParseSteps();
  if (!steps.ok()) return steps.status();
  JsonPath parsed;
  parsed.steps_ = std::move(*steps);
  return parsed;
}

std::vector<Json> EvalJsonPath(const Json& document, std::string_view path) {
  Result<JsonPath> parsed = ParseJsonPath(path);
  if (!parsed.ok()) return {};
  return parsed->Eval(document);
}

}  // namespace xblocks::api
