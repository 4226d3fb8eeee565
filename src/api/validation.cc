#include "api/validation.h"

#include <fmt/format.h>

#include "api/cel_rules.h"
#include "api/field_errors.h"
#include "api/metadata_validation.h"
#include "api/pattern_cache.h"
#include "api/schema_validation.h"

namespace xblocks::api {
namespace {

std::string QualifiedKind(const ResourceType& type) {
  return type.group.empty() ? type.kind : type.kind + "." + type.group;
}

std::string ObjectName(const Json& object) {
  if (!object.is_object()) return "";
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object()) return "";
  auto name = metadata->find("name");
  return name != metadata->end() && name->is_string() ? name->get<std::string>() : "";
}

std::string CombinedMessage(const FieldErrors& errors) {
  std::string joined;
  for (const StatusCause& cause : errors) {
    if (!joined.empty()) joined += ", ";
    joined += cause.field.empty() ? cause.message : cause.field + ": " + cause.message;
  }
  return errors.size() == 1 ? joined : "[" + joined + "]";
}

Status InvalidStatus(const ResourceType& type, const std::string& name, FieldErrors errors) {
  std::string message =
      fmt::format("{} \"{}\" is invalid: {}", QualifiedKind(type), name, CombinedMessage(errors));
  StatusDetails details;
  details.name = name;
  details.group = type.group;
  details.kind = type.kind;
  details.causes = std::move(errors);
  return Invalid(std::move(message)).WithDetails(std::move(details));
}

// Validates everything but metadata against the schema; metadata has its own rules.
void ValidateBody(const Json& schema, const Json& object, const Json* old_object, FieldErrors& errors) {
  Json body = object;
  body.erase("metadata");
  ValidateAgainstSchema(schema, body, "", errors);

  bool old_usable = old_object != nullptr && old_object->is_object();
  ValidateCelRules(schema, body, old_usable ? old_object : nullptr, "", errors);
}

void CollectPatternErrors(const Json& schema, std::string& first_error) {
  if (!schema.is_object() || !first_error.empty()) return;
  std::string pattern = SchemaString(schema, "pattern");
  if (!pattern.empty()) {
    Result<bool> compiled = MatchesPattern(pattern, "");
    if (!compiled.ok()) first_error = compiled.status().message();
  }
  for (const auto& [key, child] : schema.items()) {
    if (key == "properties" && child.is_object()) {
      for (const auto& [name, property] : child.items()) CollectPatternErrors(property, first_error);
    } else if (key == "items" || key == "additionalProperties") {
      CollectPatternErrors(child, first_error);
    }
  }
}

}  // namespace

Status ValidateObject(const ResourceType& type, const Json& object, const Json* old_object) {
  std::string name = ObjectName(object);
  FieldErrors errors;
  if (!object.is_object()) {
    errors.push_back(TypeInvalidError("", Json(SchemaTypeName(object)).dump(), "the object must be a JSON object"));
    return InvalidStatus(type, name, std::move(errors));
  }

  ValidateObjectMeta(type, object.contains("metadata") ? object["metadata"] : Json(), errors);
  if (type.schema.is_object()) ValidateBody(type.schema, object, old_object, errors);

  if (errors.empty()) return Status::Ok();
  return InvalidStatus(type, name, std::move(errors));
}

Status CheckSchemaSupported(const Json& schema) {
  std::string first_error;
  CollectPatternErrors(schema, first_error);
  if (!first_error.empty()) return Internal(first_error);
  return CheckCelRulesSupported(schema);
}

}  // namespace xblocks::api
