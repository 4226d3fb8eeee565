// Label requirements: validation, matching, and conversion from metav1.LabelSelector.
#include "api/selector.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace xblocks::api {
namespace {

constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxPrefixLength = 253;

bool IsAlphanumeric(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, the shape of label names and values.
bool IsQualifiedNamePart(std::string_view text) {
  if (text.empty() || !IsAlphanumeric(text.front()) || !IsAlphanumeric(text.back())) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return IsAlphanumeric(c) || c == '-' || c == '_' || c == '.';
  });
}

// A lowercase RFC 1123 subdomain: dot-separated labels of [a-z0-9-], each starting and ending
// with [a-z0-9].
bool IsDnsSubdomain(std::string_view text) {
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view label = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (label.empty() || !lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    if (!std::all_of(label.begin(), label.end(), [&](char c) { return lower_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

const Json* FindLabel(const Json& labels, const std::string& key) {
  if (!labels.is_object()) return nullptr;
  auto it = labels.find(key);
  if (it == labels.end() || !it->is_string()) return nullptr;
  return &*it;
}

// Describes why `values` do not fit `op`, or returns "".
std::string ValueCountProblem(LabelOperator op, const std::vector<std::string>& values) {
  switch (op) {
    case LabelOperator::kEquals:
    case LabelOperator::kNotEquals:
      return values.size() == 1 ? "" : "exactly one value is required for '=', '==' and '!='";
    case LabelOperator::kIn:
    case LabelOperator::kNotIn:
      return values.empty() ? "at least one value is required for 'in' and 'notin'" : "";
    case LabelOperator::kExists:
    case LabelOperator::kDoesNotExist:
      return values.empty() ? "" : "values are not allowed for 'exists' and '!'";
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan:
      if (values.size() != 1) return "exactly one value is required for '>' and '<'";
      return ParseInt64(values[0]) ? "" : fmt::format("value \"{}\" for '>' or '<' must be an integer", values[0]);
  }
  return "";
}

Status FieldInvalid(const std::string& field, const std::string& problem) {
  return Invalid(fmt::format("{}: Invalid value: {}", field, problem));
}

Result<LabelRequirement> ExpressionFromJson(const Json& expression, const std::string& field);

Status AddMatchLabels(const Json& match_labels, std::vector<LabelRequirement>& out) {
  if (match_labels.is_null()) return Status::Ok();
  if (!match_labels.is_object()) return FieldInvalid("matchLabels", "must be an object of strings");
  for (const auto& [key, value] : match_labels.items()) {
    std::string field = "matchLabels." + key;
    if (!value.is_string()) return FieldInvalid(field, "label values must be strings");
    auto requirement = MakeLabelRequirement(key, LabelOperator::kEquals, {value.get<std::string>()});
    if (!requirement.ok()) return FieldInvalid(field, requirement.status().message());
    out.push_back(std::move(*requirement));
  }
  return Status::Ok();
}

Status AddMatchExpressions(const Json& expressions, std::vector<LabelRequirement>& out) {
  if (expressions.is_null()) return Status::Ok();
  if (!expressions.is_array()) return FieldInvalid("matchExpressions", "must be an array");
  for (size_t i = 0; i < expressions.size(); ++i) {
    auto requirement = ExpressionFromJson(expressions[i], fmt::format("matchExpressions[{}]", i));
    if (!requirement.ok()) return requirement.status();
    out.push_back(std::move(*requirement));
  }
  return Status::Ok();
}

Result<LabelOperator> OperatorFromJson(const Json& op, const std::string& field) {
  static constexpr std::pair<const char*, LabelOperator> kOperators[] = {
      {"In", LabelOperator::kIn}, {"NotIn", LabelOperator::kNotIn},
      {"Exists", LabelOperator::kExists}, {"DoesNotExist", LabelOperator::kDoesNotExist}};
  for (const auto& [name, value] : kOperators) {
    if (op.is_string() && op.get<std::string>() == name) return value;
  }
  return FieldInvalid(field + ".operator",
                      fmt::format("{} is not a valid label selector operator; use In, NotIn, Exists "
                                  "or DoesNotExist", op.dump()));
}

Result<LabelRequirement> ExpressionFromJson(const Json& expression, const std::string& field) {
  if (!expression.is_object()) return FieldInvalid(field, "must be an object");
  const Json& key = expression.contains("key") ? expression["key"] : Json();
  if (!key.is_string()) return FieldInvalid(field + ".key", "must be a string");
  auto op = OperatorFromJson(expression.contains("operator") ? expression["operator"] : Json(), field);
  if (!op.ok()) return op.status();

  std::vector<std::string> values;
  const Json& json_values = expression.contains("values") ? expression["values"] : Json();
  if (!json_values.is_null() && !json_values.is_array()) return FieldInvalid(field + ".values", "must be an array");
  for (const Json& value : json_values.is_array() ? json_values : Json::array()) {
    if (!value.is_string()) return FieldInvalid(field + ".values", "values must be strings");
    values.push_back(value.get<std::string>());
  }
  auto requirement = MakeLabelRequirement(key.get<std::string>(), *op, std::move(values));
  if (!requirement.ok()) return FieldInvalid(field, requirement.status().message());
  return requirement;
}

}  // namespace

std::string LabelKeyProblem(std::string_view key) {
  size_t slash = key.find('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    if (prefix.empty()) return "the prefix before '/' must not be empty";
    if (prefix.size() > kMaxPrefixLength) return "the prefix before '/' must be at most 253 characters";
    if (!IsDnsSubdomain(prefix)) {
      return "the prefix before '/' must be a lowercase DNS subdomain such as example.com";
    }
  }
  if (name.empty()) return "the name must not be empty";
  if (name.size() > kMaxNameLength) return "the name must be at most 63 characters";
  if (!IsQualifiedNamePart(name)) {
    return "the name must consist of alphanumeric characters, '-', '_' or '.', and start and end "
           "with an alphanumeric character";
  }
  return "";
}

std::string LabelValueProblem(std::string_view value) {
  if (value.empty()) return "";
  if (value.size() > kMaxNameLength) return "a label value must be at most 63 characters";
  if (!IsQualifiedNamePart(value)) {
    return "a label value must be empty or consist of alphanumeric characters, '-', '_' or '.', "
           "and start and end with an alphanumeric character";
  }
  return "";
}

Result<LabelRequirement> MakeLabelRequirement(std::string key, LabelOperator op,
                                              std::vector<std::string> values) {
  if (std::string problem = LabelKeyProblem(key); !problem.empty()) {
    return Invalid(fmt::format("invalid label key \"{}\": {}", key, problem));
  }
  if (std::string problem = ValueCountProblem(op, values); !problem.empty()) {
    return Invalid(fmt::format("invalid values for label key \"{}\": {}", key, problem));
  }
  for (const std::string& value : values) {
    if (std::string problem = LabelValueProblem(value); !problem.empty()) {
      return Invalid(fmt::format("invalid value \"{}\" for label key \"{}\": {}", value, key, problem));
    }
  }
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return LabelRequirement{std::move(key), op, std::move(values)};
}

bool LabelRequirement::Matches(const Json& labels) const {
  const Json* label = FindLabel(labels, key);
  auto has_value = [&] {
    return std::binary_search(values.begin(), values.end(), label->get_ref<const std::string&>());
  };
  switch (op) {
    case LabelOperator::kEquals:
    case LabelOperator::kIn:
      return label != nullptr && has_value();
    case LabelOperator::kNotEquals:
    case LabelOperator::kNotIn:
      return label == nullptr || !has_value();
    case LabelOperator::kExists:
      return label != nullptr;
    case LabelOperator::kDoesNotExist:
      return label == nullptr;
    case LabelOperator::kGreaterThan:
    case LabelOperator::kLessThan: {
      if (label == nullptr || values.size() != 1) return false;
      std::optional<int64_t> actual = ParseInt64(label->get_ref<const std::string&>());
      std::optional<int64_t> bound = ParseInt64(values[0]);
      if (!actual || !bound) return false;
      return op == LabelOperator::kGreaterThan ? *actual > *bound : *actual < *bound;
    }
  }
  return false;
}

LabelSelector::LabelSelector(std::vector<LabelRequirement> requirements)
    : requirements_(std::move(requirements)) {
  std::stable_sort(requirements_.begin(), requirements_.end(),
                   [](const LabelRequirement& a, const LabelRequirement& b) { return a.key < b.key; });
}

LabelSelector LabelSelector::Nothing() {
  LabelSelector selector;
  selector.matches_nothing_ = true;
  return selector;
}

bool LabelSelector::Matches(const Json& labels) const {
  if (matches_nothing_) return false;
  return std::all_of(requirements_.begin(), requirements_.end(),
                     [&](const LabelRequirement& r) { return r.Matches(labels); });
}

std::string LabelSelector::ToString() const {
  std::vector<std::string> parts;
  for (const LabelRequirement& r : requirements_) {
    std::string joined = fmt::format("{}", fmt::join(r.values, ","));
    switch (r.op) {
      case LabelOperator::kEquals: parts.push_back(r.key + "=" + joined); break;
      case LabelOperator::kNotEquals: parts.push_back(r.key + "!=" + joined); break;
      case LabelOperator::kIn: parts.push_back(r.key + " in (" + joined + ")"); break;
      case LabelOperator::kNotIn: parts.push_back(r.key + " notin (" + joined + ")"); break;
      case LabelOperator::kExists: parts.push_back(r.key); break;
      case LabelOperator::kDoesNotExist: parts.push_back("!" + r.key); break;
      case LabelOperator::kGreaterThan: parts.push_back(r.key + ">" + joined); break;
      case LabelOperator::kLessThan: parts.push_back(r.key + "<" + joined); break;
    }
  }
  return fmt::format("{}", fmt::join(parts, ","));
}

Result<LabelSelector> LabelSelectorFromJson(const Json& selector) {
  if (selector.is_null()) return LabelSelector::Nothing();
  if (!selector.is_object()) return Invalid("label selector: Invalid value: must be an object");
  std::vector<LabelRequirement> requirements;
  XB_RETURN_IF_ERROR(AddMatchLabels(selector.value("matchLabels", Json()), requirements));
  XB_RETURN_IF_ERROR(AddMatchExpressions(selector.value("matchExpressions", Json()), requirements));
  return LabelSelector(std::move(requirements));
}

}  // namespace xblocks::api
