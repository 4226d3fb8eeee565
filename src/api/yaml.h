// Decoding of request bodies and manifests: YAML (one or many documents) and JSON into Json
// values, with limits that keep hostile input from exhausting the stack or memory.
//
// YAML plain scalars are typed by the YAML 1.2 core schema. "null", "~" and empty scalars are
// null. "true" and "false" in lower, title or upper case are booleans. Decimal, 0x and 0o
// integers and decimal floats are numbers. Everything else is a string. Quoted and block scalars,
// and scalars tagged !!str, stay strings. The YAML 1.1 merge key "<<" is honoured, as kubectl
// honours it. Mapping keys become strings ("1: a" has the key "1").
//
// Errors are kBadRequest with kube-apiserver's prefix, e.g.
//   error converting YAML to JSON: yaml: line 3, column 5: illegal map value
//
// Thread-safety: all functions are pure and may be called concurrently.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// Deepest nesting of arrays and objects accepted in YAML and JSON input. Deeper input is
// rejected before the parsers recurse that deep.
inline constexpr int kMaxNestingDepth = 100;
// Maximum number of values that YAML aliases may copy in one call, which bounds "billion
// laughs" input.
inline constexpr size_t kMaxAliasExpansion = 100'000;

// Parses every document of a YAML stream, skipping empty and null documents as kubectl does
// ("---" alone yields no document). Returns kBadRequest for syntax errors, nesting deeper than
// kMaxNestingDepth, duplicate mapping keys (the message names the key), aliases that expand to
// more than kMaxAliasExpansion values, invalid UTF-8, non-scalar mapping keys, and .inf or .nan,
// which JSON cannot represent.
Result<std::vector<Json>> ParseYamlDocuments(std::string_view text);

// Parses one YAML or JSON document. Text that starts with '{' is tried as JSON first. Returns
// null for empty input, and kBadRequest as ParseYamlDocuments does or when the text contains more
// than one non-empty document.
Result<Json> ParseYamlOrJson(std::string_view text);

// Parses a JSON request body. Returns kBadRequest naming the position of a syntax error, for
// nesting deeper than kMaxNestingDepth (checked by a scan before parsing), for invalid UTF-8,
// and for an empty body. Duplicate object keys keep the last value.
Result<Json> ParseJsonBody(std::string_view body);

// Writes `value` as one YAML document in block style, as kubectl -o yaml lays it out. Every string
// is double-quoted with JSON escapes, so no string reads back as a number or a boolean; keys are
// plain when they are made of letters, digits and "._/-" only. Empty objects and arrays print as
// {} and []. ParseYamlOrJson reads the output back to an equal value.
std::string EmitYaml(const Json& value);

}  // namespace xblocks::api
