// Defaulting from the `default` values of a structural schema (see validation.h).
#include "api/schema_validation.h"
#include "api/validation.h"

namespace xblocks::api {
namespace {

void DefaultNode(const Json& schema, Json& value);

void DefaultProperties(const Json& schema, Json& object) {
  const Json* properties = SchemaChild(schema, "properties");
  if (properties == nullptr || !properties->is_object()) return;
  for (const auto& [name, property] : properties->items()) {
    const Json* default_value = SchemaChild(property, "default");
    if (default_value == nullptr) continue;
    auto found = object.find(name);
    // A null in a field that is not nullable is dropped and replaced by the default.
    bool replace_null = found != object.end() && found->is_null() && !SchemaFlag(property, "nullable");
    if (found == object.end() || replace_null) object[name] = *default_value;
  }
}

void DefaultNode(const Json& schema, Json& value) {
  if (!schema.is_object()) return;
  if (value.is_object()) {
    DefaultProperties(schema, value);
    const Json* additional = AdditionalPropertiesSchema(schema);
    for (auto& [key, child] : value.items()) {
      const Json* child_schema = PropertySchema(schema, key);
      if (child_schema == nullptr) child_schema = additional;
      if (child_schema != nullptr) DefaultNode(*child_schema, child);
    }
    return;
  }
  const Json* items = SchemaChild(schema, "items");
  if (value.is_array() && items != nullptr) {
    for (Json& item : value) DefaultNode(*items, item);
  }
}

}  // namespace

void ApplyDefaults(const ResourceType& type, Json& object) {
  if (!type.schema.is_object() || !object.is_object()) return;
  DefaultNode(type.schema, object);
}

}  // namespace xblocks::api
