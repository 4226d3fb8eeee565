// Structural schema validation: checks a value against an OpenAPI v3 structural schema node
// (type, nullable, enum, format, string, number, array, object and list-type rules) and
// reports kube-apiserver's field errors. CEL rules are checked separately (cel_rules.h).
#pragma once

#include <string>

#include "api/field_errors.h"
#include "common/json.h"

namespace xblocks::api {

// Appends to `errors` every way `value` breaks `schema`, naming fields below `path`. Unknown
// fields are not errors here (see unknown_fields.h). A schema that is not an object accepts
// anything. Recursion follows the schema, so its depth is bounded by the schema's depth.
void ValidateAgainstSchema(const Json& schema, const Json& value, const std::string& path,
                           FieldErrors& errors);

// Small accessors shared by the schema walkers; all tolerate malformed schema nodes.
bool SchemaFlag(const Json& schema, const char* key);
const Json* SchemaChild(const Json& schema, const char* key);
const Json* PropertySchema(const Json& schema, const std::string& name);
// The schema for map values (additionalProperties), or null when there is none.
const Json* AdditionalPropertiesSchema(const Json& schema);
std::string SchemaString(const Json& schema, const char* key);

}  // namespace xblocks::api
