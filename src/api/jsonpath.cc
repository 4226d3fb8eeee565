// Evaluation of parsed JSONPath expressions (see jsonpath.h).
#include "api/jsonpath.h"

#include <algorithm>
#include <optional>

namespace xblocks::api {
namespace {

using Step = JsonPath::Step;
using Comparison = JsonPath::Comparison;

std::vector<const Json*> SelectSteps(const std::vector<Step>& steps, const Json& start);

void SelectField(const Step& step, const Json& value, std::vector<const Json*>& out) {
  if (!value.is_object()) return;
  auto it = value.find(step.field);
  if (it != value.end()) out.push_back(&*it);
}

void SelectIndex(const Step& step, const Json& value, std::vector<const Json*>& out) {
  if (!value.is_array()) return;
  const auto size = static_cast<int64_t>(value.size());
  int64_t index = step.index < 0 ? size + step.index : step.index;
  if (index >= 0 && index < size) out.push_back(&value[static_cast<size_t>(index)]);
}

void SelectSlice(const Step& step, const Json& value, std::vector<const Json*>& out) {
  if (!value.is_array()) return;
  const auto size = static_cast<int64_t>(value.size());
  auto clamp = [size](int64_t i) { return std::clamp(i < 0 ? size + i : i, int64_t{0}, size); };
  int64_t begin = step.has_start ? clamp(step.index) : 0;
  int64_t end = step.has_end ? clamp(step.end) : size;
  for (int64_t i = begin; i < end; ++i) out.push_back(&value[static_cast<size_t>(i)]);
}

void SelectAll(const Json& value, std::vector<const Json*>& out) {
  if (!value.is_array() && !value.is_object()) return;
  for (const Json& child : value) out.push_back(&child);
}

// Orders two values of the same kind: -1, 0 or 1, or nullopt when they cannot be compared.
std::optional<int> Order(const Json& left, const Json& right) {
  if (left.is_number_integer() && right.is_number_integer() && left.is_number_unsigned() == right.is_number_unsigned()) {
    return left < right ? -1 : (right < left ? 1 : 0);
  }
  if (left.is_number() && right.is_number()) {
    double a = left.get<double>(), b = right.get<double>();
    return a < b ? -1 : (b < a ? 1 : 0);
  }
  if (left.is_string() && right.is_string()) {
    int c = left.get_ref<const std::string&>().compare(right.get_ref<const std::string&>());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (left.is_boolean() && right.is_boolean()) {
    bool a = left.get<bool>(), b = right.get<bool>();
    return a == b ? 0 : (a ? 1 : -1);
  }
  if (left.is_null() && right.is_null()) return 0;
  return std::nullopt;
}

bool Compare(const Json& left, Comparison comparison, const Json& right) {
  std::optional<int> order = Order(left, right);
  if (!order) return false;  // incompatible types never match, as kubectl reports an error
  switch (comparison) {
    case Comparison::kExists: return true;
    case Comparison::kEqual: return *order == 0;
    case Comparison::kNotEqual: return *order != 0;
    case Comparison::kLess: return *order < 0;
    case Comparison::kLessEqual: return *order <= 0;
    case Comparison::kGreater: return *order > 0;
    case Comparison::kGreaterEqual: return *order >= 0;
  }
  return false;
}

bool Passes(const JsonPath::Filter& filter, const Json& element) {
  std::vector<const Json*> left = SelectSteps(filter.left, element);
  if (left.empty()) return false;
  if (filter.comparison == Comparison::kExists) return true;
  if (!filter.right_is_path) return Compare(*left.front(), filter.comparison, filter.literal);
  std::vector<const Json*> right = SelectSteps(filter.right, element);
  return !right.empty() && Compare(*left.front(), filter.comparison, *right.front());
}

void SelectFiltered(const Step& step, const Json& value, std::vector<const Json*>& out) {
  if (!value.is_array() || step.filter.empty()) return;
  for (const Json& element : value) {
    if (Passes(step.filter.front(), element)) out.push_back(&element);
  }
}

void ApplyStep(const Step& step, const Json& value, std::vector<const Json*>& out) {
  switch (step.kind) {
    case JsonPath::StepKind::kField: SelectField(step, value, out); break;
    case JsonPath::StepKind::kIndex: SelectIndex(step, value, out); break;
    case JsonPath::StepKind::kSlice: SelectSlice(step, value, out); break;
    case JsonPath::StepKind::kWildcard: SelectAll(value, out); break;
    case JsonPath::StepKind::kFilter: SelectFiltered(step, value, out); break;
  }
}

std::vector<const Json*> SelectSteps(const std::vector<Step>& steps, const Json& start) {
  std::vector<const Json*> current = {&start};
  for (const Step& step : steps) {
    std::vector<const Json*> next;
    for (const Json* value : current) ApplyStep(step, *value, next);
    current = std::move(next);
    if (current.empty()) break;
  }
  return current;
}

}  // namespace

std::vector<const Json*> JsonPath::Select(const Json& document) const {
  return SelectSteps(steps_, document);
}

std::vector<Json> JsonPath::Eval(const Json& document) const {
  std::vector<Json> values;
  for (const Json* value : Select(document)) values.push_back(*value);
  return values;
}

}  // namespace xblocks::api
