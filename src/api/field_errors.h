// Builders for field-level validation errors worded as kube-apiserver words them, so kubectl
// prints the same `<field>: <message>` lines for xblocks as for a real cluster.
//
// Field paths use Kubernetes' format: `spec.componentSpecs[0].replicas`, with map entries
// joined by a dot (`spec.componentSpecs[0].resources.limits.memory`).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

using FieldErrors = std::vector<StatusCause>;

// "spec" + "replicas" -> "spec.replicas"; an empty parent yields the child alone.
std::string ChildPath(const std::string& parent, const std::string& child);
// "spec.componentSpecs" + 0 -> "spec.componentSpecs[0]".
std::string IndexPath(const std::string& parent, size_t index);

// Renders a value the way kube renders it after "Invalid value: ": strings quoted, numbers
// and booleans bare, objects and arrays as compact JSON.
std::string FormatValue(const Json& value);
// The JSON type of a value in OpenAPI words: string, integer, number, boolean, object, array
// or null. Floats with no fractional part count as integer.
std::string SchemaTypeName(const Json& value);

StatusCause RequiredError(const std::string& field, const std::string& detail = "");
StatusCause InvalidError(const std::string& field, const std::string& value_text,
                         const std::string& detail);
StatusCause TypeInvalidError(const std::string& field, const std::string& value_text,
                             const std::string& detail);
StatusCause NotSupportedError(const std::string& field, const Json& value, const Json& supported);
StatusCause TooLongError(const std::string& field, int64_t max_length);
StatusCause TooLongBytesError(const std::string& field, int64_t max_bytes);
StatusCause TooManyError(const std::string& field, int64_t actual, int64_t max_items);
StatusCause DuplicateError(const std::string& field, const std::string& value_text);
StatusCause ForbiddenError(const std::string& field, const std::string& detail);

}  // namespace xblocks::api
