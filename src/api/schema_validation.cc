#include "api/schema_validation.h"

#include <cstdint>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "api/pattern_cache.h"

namespace xblocks::api {
namespace {

// RFC 3339 date-time, as the OpenAPI "date-time" format requires.
constexpr const char* kDateTimePattern =
    R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$)";

std::string Quote(const std::string& text) { return Json(text).dump(); }

std::string InBody(const std::string& path) { return path + " in body"; }

size_t CountCodePoints(const std::string& text) {
  size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool TypeMatches(const std::string& type, const std::string& actual, const Json& value) {
  if (type.empty()) return true;
  if (type == "number") return value.is_number();
  return type == actual;
}

// Checks the JSON type; returns false when the value has the wrong type, so nothing else is
// checked on it.
bool CheckType(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  std::string actual = SchemaTypeName(value);
  std::string expected = SchemaString(schema, "type");
  bool matches = TypeMatches(expected, actual, value);
  if (SchemaFlag(schema, "x-kubernetes-int-or-string")) {
    expected = "integer,string";
    matches = actual == "integer" || actual == "string";
  }
  if (value.is_null() && SchemaFlag(schema, "nullable")) return false;
  if (value.is_null() && expected.empty()) return false;
  if (matches && !value.is_null()) return true;

  errors.push_back(TypeInvalidError(
      path, Quote(actual), fmt::format("{} must be of type {}: {}", InBody(path), expected, Quote(actual))));
  return false;
}

void CheckEnum(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  const Json* allowed = SchemaChild(schema, "enum");
  if (allowed == nullptr || !allowed->is_array()) return;
  for (const Json& item : *allowed) {
    if (item == value) return;
  }
  errors.push_back(NotSupportedError(path, value, *allowed));
}

void CheckIntegerFormat(const std::string& format, const Json& value, const std::string& path,
                        FieldErrors& errors) {
  if (format != "int32" || !value.is_number()) return;
  double number = value.get<double>();
  if (number > std::numeric_limits<int32_t>::max()) {
    errors.push_back(InvalidError(path, FormatValue(value),
                                  fmt::format("{} should be less than or equal to {}", InBody(path),
                                              std::numeric_limits<int32_t>::max())));
  } else if (number < std::numeric_limits<int32_t>::min()) {
    errors.push_back(InvalidError(path, FormatValue(value),
                                  fmt::format("{} should be greater than or equal to {}", InBody(path),
                                              std::numeric_limits<int32_t>::min())));
  }
}

void CheckFormat(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  std::string format = SchemaString(schema, "format");
  if (format.empty()) return;
  CheckIntegerFormat(format, value, path, errors);
  if (format != "date-time" || !value.is_string()) return;
  Result<bool> matches = MatchesPattern(kDateTimePattern, value.get_ref<const std::string&>());
  if (matches.ok() && *matches) return;
  errors.push_back(TypeInvalidError(
      path, FormatValue(value),
      fmt::format("{} must be of type date-time: {}", InBody(path), FormatValue(value))));
}

void CheckPattern(const std::string& pattern, const Json& value, const std::string& path,
                  FieldErrors& errors) {
  Result<bool> matches = MatchesPattern(pattern, value.get_ref<const std::string&>());
  // A pattern that does not compile is rejected when the scheme loads, so it never gets here.
  if (!matches.ok() || *matches) return;
  errors.push_back(InvalidError(path, FormatValue(value),
                                fmt::format("{} should match '{}'", InBody(path), pattern)));
}

void CheckString(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  size_t length = CountCodePoints(value.get_ref<const std::string&>());
  const Json* max_length = SchemaChild(schema, "maxLength");
  if (max_length != nullptr && max_length->is_number() && length > max_length->get<double>()) {
    errors.push_back(TooLongError(path, max_length->get<int64_t>()));
  }
  const Json* min_length = SchemaChild(schema, "minLength");
  if (min_length != nullptr && min_length->is_number() && length < min_length->get<double>()) {
    errors.push_back(InvalidError(
        path, FormatValue(value),
        fmt::format("{} should be at least {} chars long", InBody(path), min_length->dump())));
  }
  std::string pattern = SchemaString(schema, "pattern");
  if (!pattern.empty()) CheckPattern(pattern, value, path, errors);
}

void CheckBound(const Json& schema, const Json& value, const std::string& path, bool lower,
                FieldErrors& errors) {
  const Json* bound = SchemaChild(schema, lower ? "minimum" : "maximum");
  if (bound == nullptr || !bound->is_number()) return;
  bool exclusive = SchemaFlag(schema, lower ? "exclusiveMinimum" : "exclusiveMaximum");
  double number = value.get<double>();
  double limit = bound->get<double>();
  bool ok = lower ? (exclusive ? number > limit : number >= limit)
                  : (exclusive ? number < limit : number <= limit);
  if (ok) return;
  std::string relation = lower ? "greater than" : "less than";
  if (!exclusive) relation += " or equal to";
  errors.push_back(InvalidError(path, FormatValue(value),
                                fmt::format("{} should be {} {}", InBody(path), relation, bound->dump())));
}

void CheckNumber(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  CheckBound(schema, value, path, /*lower=*/true, errors);
  CheckBound(schema, value, path, /*lower=*/false, errors);
  const Json* multiple = SchemaChild(schema, "multipleOf");
  if (multiple == nullptr || !multiple->is_number() || multiple->get<double>() <= 0) return;
  double quotient = value.get<double>() / multiple->get<double>();
  if (quotient == static_cast<double>(static_cast<int64_t>(quotient))) return;
  errors.push_back(InvalidError(
      path, FormatValue(value), fmt::format("{} should be a multiple of {}", InBody(path), multiple->dump())));
}

// The list-map key values of one item, rendered like kube renders a Go map in
// "Duplicate value" messages.
std::string FormatMapKeys(const Json& keys, const Json& item) {
  std::string text;
  for (const Json& key : keys) {
    if (!key.is_string()) continue;
    const std::string& name = key.get_ref<const std::string&>();
    if (!text.empty()) text += ", ";
    text += Quote(name) + ":" + FormatValue(item.contains(name) ? item[name] : Json());
  }
  return "map[string]interface {}{" + text + "}";
}

void CheckListMap(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  const Json* keys = SchemaChild(schema, "x-kubernetes-list-map-keys");
  if (keys == nullptr || !keys->is_array()) return;
  std::set<std::string> seen;
  for (size_t i = 0; i < value.size(); ++i) {
    const Json& item = value[i];
    if (!item.is_object()) continue;  // the items schema reports the type error
    Json key_values = Json::array();
    for (const Json& key : *keys) {
      if (!key.is_string()) continue;
      auto found = item.find(key.get<std::string>());
      if (found == item.end()) {
        errors.push_back(RequiredError(ChildPath(IndexPath(path, i), key.get<std::string>())));
      }
      key_values.push_back(found == item.end() ? Json() : *found);
    }
    if (!seen.insert(key_values.dump()).second) {
      errors.push_back(DuplicateError(IndexPath(path, i), FormatMapKeys(*keys, item)));
    }
  }
}

void CheckListSet(const Json& value, const std::string& path, FieldErrors& errors) {
  std::set<std::string> seen;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!seen.insert(value[i].dump()).second) {
      errors.push_back(DuplicateError(IndexPath(path, i), FormatValue(value[i])));
    }
  }
}

void CheckArray(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  const Json* min_items = SchemaChild(schema, "minItems");
  if (min_items != nullptr && min_items->is_number() && value.size() < min_items->get<double>()) {
    errors.push_back(InvalidError(
        path, std::to_string(value.size()),
        fmt::format("{} should have at least {} items", InBody(path), min_items->dump())));
  }
  const Json* max_items = SchemaChild(schema, "maxItems");
  if (max_items != nullptr && max_items->is_number() && value.size() > max_items->get<double>()) {
    errors.push_back(TooManyError(path, value.size(), max_items->get<int64_t>()));
  }

  std::string list_type = SchemaString(schema, "x-kubernetes-list-type");
  if (list_type == "set") CheckListSet(value, path, errors);
  if (list_type == "map") CheckListMap(schema, value, path, errors);

  const Json* items = SchemaChild(schema, "items");
  if (items == nullptr) return;
  for (size_t i = 0; i < value.size(); ++i) {
    ValidateAgainstSchema(*items, value[i], IndexPath(path, i), errors);
  }
}

void CheckPropertyCounts(const Json& schema, const Json& value, const std::string& path,
                         FieldErrors& errors) {
  const Json* max_properties = SchemaChild(schema, "maxProperties");
  if (max_properties != nullptr && max_properties->is_number() &&
      value.size() > max_properties->get<double>()) {
    errors.push_back(TooManyError(path, value.size(), max_properties->get<int64_t>()));
  }
  const Json* min_properties = SchemaChild(schema, "minProperties");
  if (min_properties != nullptr && min_properties->is_number() &&
      value.size() < min_properties->get<double>()) {
    errors.push_back(InvalidError(
        path, std::to_string(value.size()),
        fmt::format("{} should have at least {} properties", InBody(path), min_properties->dump())));
  }
}

void CheckEmbeddedResource(const Json& value, const std::string& path, FieldErrors& errors) {
  for (const char* field : {"apiVersion", "kind"}) {
    auto found = value.find(field);
    if (found == value.end() || !found->is_string() || found->get_ref<const std::string&>().empty()) {
      errors.push_back(RequiredError(ChildPath(path, field)));
    }
  }
}

void CheckObject(const Json& schema, const Json& value, const std::string& path, FieldErrors& errors) {
  CheckPropertyCounts(schema, value, path, errors);
  if (SchemaFlag(schema, "x-kubernetes-embedded-resource")) CheckEmbeddedResource(value, path, errors);

  const Json* required = SchemaChild(schema, "required");
  if (required != nullptr && required->is_array()) {
    for (const Json& name : *required) {
      if (name.is_string() && !value.contains(name.get<std::string>())) {
        errors.push_back(RequiredError(ChildPath(path, name.get<std::string>())));
      }
    }
  }

  const Json* additional = AdditionalPropertiesSchema(schema);
  for (const auto& [key, child] : value.items()) {
    const Json* child_schema = PropertySchema(schema, key);
    if (child_schema == nullptr) child_schema = additional;
    if (child_schema != nullptr) ValidateAgainstSchema(*child_schema, child, ChildPath(path, key), errors);
  }
}

}  // namespace

bool SchemaFlag(const Json& schema, const char* key) {
  const Json* flag = SchemaChild(schema, key);
  return flag != nullptr && flag->is_boolean() && flag->get<bool>();
}

const Json* SchemaChild(const Json& schema, const char* key) {
  if (!schema.is_object()) return nullptr;
  auto found = schema.find(key);
  return found == schema.end() ? nullptr : &*found;
}

const Json* PropertySchema(const Json& schema, const std::string& name) {
  const Json* properties = SchemaChild(schema, "properties");
  if (properties == nullptr || !properties->is_object()) return nullptr;
  auto found = properties->find(name);
  return found == properties->end() ? nullptr : &*found;
}

const Json* AdditionalPropertiesSchema(const Json& schema) {
  const Json* additional = SchemaChild(schema, "additionalProperties");
  return additional != nullptr && additional->is_object() ? additional : nullptr;
}

std::string SchemaString(const Json& schema, const char* key) {
  const Json* text = SchemaChild(schema, key);
  return text != nullptr && text->is_string() ? text->get<std::string>() : std::string();
}

void ValidateAgainstSchema(const Json& schema, const Json& value, const std::string& path,
                           FieldErrors& errors) {
  if (!schema.is_object()) return;
  if (!CheckType(schema, value, path, errors)) return;

  CheckEnum(schema, value, path, errors);
  CheckFormat(schema, value, path, errors);
  if (value.is_string()) CheckString(schema, value, path, errors);
  if (value.is_number()) CheckNumber(schema, value, path, errors);
  if (value.is_array()) CheckArray(schema, value, path, errors);
  if (value.is_object()) CheckObject(schema, value, path, errors);
}

}  // namespace xblocks::api
