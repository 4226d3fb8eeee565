// Field selectors: parsing of the `fieldSelector` query syntax and matching by dotted path.
#include <fmt/format.h>

#include <optional>

#include "api/json_fields.h"
#include "api/selector.h"

namespace xblocks::api {
namespace {

// Splits on commas that are not escaped with a backslash. Escapes are kept for UnescapeValue.
std::vector<std::string_view> SplitTerms(std::string_view text) {
  std::vector<std::string_view> terms;
  size_t start = 0;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (escaped) {
      escaped = false;
    } else if (text[i] == '\\') {
      escaped = true;
    } else if (text[i] == ',') {
      terms.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  terms.push_back(text.substr(start));
  return terms;
}

std::string_view TrimSpace(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

struct SplitTerm {
  std::string_view field;
  FieldOperator op;
  std::string_view raw_value;
};

// Splits "path<op>value" at the first operator, trying "!=", then "==", then "=" at each
// position, as Kubernetes does.
std::optional<SplitTerm> SplitAtOperator(std::string_view term) {
  for (size_t i = 0; i < term.size(); ++i) {
    std::string_view rest = term.substr(i);
    if (rest.substr(0, 2) == "!=") return SplitTerm{term.substr(0, i), FieldOperator::kNotEquals, rest.substr(2)};
    if (rest.substr(0, 2) == "==") return SplitTerm{term.substr(0, i), FieldOperator::kEquals, rest.substr(2)};
    if (rest.substr(0, 1) == "=") return SplitTerm{term.substr(0, i), FieldOperator::kEquals, rest.substr(1)};
  }
  return std::nullopt;
}

// Resolves the escapes \\ \, \= and rejects unescaped ',' or '=' with kBadRequest.
Result<std::string> UnescapeValue(std::string_view raw, std::string_view selector) {
  std::string value;
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '=' || c == ',') {
      return BadRequest(fmt::format("invalid field selector \"{}\": '{}' in a value must be escaped as '\\{}'",
                                    selector, c, c));
    }
    if (c != '\\') {
      value.push_back(c);
      continue;
    }
    if (i + 1 == raw.size() || (raw[i + 1] != '\\' && raw[i + 1] != ',' && raw[i + 1] != '=')) {
      return BadRequest(fmt::format(
          "invalid field selector \"{}\": invalid escape sequence; only \\\\, \\, and \\= are allowed",
          selector));
    }
    value.push_back(raw[++i]);
  }
  return value;
}

Result<FieldRequirement> ParseTerm(std::string_view term, std::string_view selector) {
  std::optional<SplitTerm> split = SplitAtOperator(term);
  if (!split) {
    return BadRequest(fmt::format(
        "invalid field selector \"{}\": term \"{}\" has no operator; write field=value, field==value "
        "or field!=value", selector, term));
  }
  std::string_view field = TrimSpace(split->field);
  if (field.empty()) {
    return BadRequest(fmt::format("invalid field selector \"{}\": term \"{}\" has no field name",
                                  selector, term));
  }
  auto value = UnescapeValue(split->raw_value, selector);
  if (!value.ok()) return value.status();
  return FieldRequirement{std::string(field), split->op, std::move(*value)};
}

// The text a field has for selection, with the Kubernetes aliases documented in selector.h.
std::string FieldText(const Json& object, const std::string& field) {
  std::string kind = StringAt(object, "kind");
  if (kind == "Event" && field == "source") return StringAt(object, "source.component");
  const Json* value = FindPath(object, field);
  if (kind == "Node" && field == "spec.unschedulable" && value == nullptr) return "false";
  return ScalarText(value);
}

}  // namespace

bool FieldSelector::Matches(const Json& object) const {
  for (const FieldRequirement& requirement : requirements_) {
    bool equal = FieldText(object, requirement.field) == requirement.value;
    if (equal != (requirement.op == FieldOperator::kEquals)) return false;
  }
  return true;
}

Result<FieldSelector> ParseFieldSelector(std::string_view text) {
  FieldSelector selector;
  for (std::string_view term : SplitTerms(text)) {
    if (TrimSpace(term).empty()) continue;
    auto requirement = ParseTerm(term, text);
    if (!requirement.ok()) return requirement.status();
    selector.requirements_.push_back(std::move(*requirement));
  }
  return selector;
}

}  // namespace xblocks::api
