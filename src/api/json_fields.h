// Null-safe reads of object fields by dotted path, shared by selectors and Table printers.
// Objects from clients may have any shape, so every read checks the type of each step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"

namespace xblocks::api {

// Splits "metadata.name" into {"metadata", "name"}. Empty segments are kept ("a..b" gives
// {"a", "", "b"}), so they never match a field.
std::vector<std::string_view> SplitDottedPath(std::string_view path);

// The value at `path` (dotted, object keys only), or nullptr when a step is missing or is not
// an object. The result points into `object`.
const Json* FindPath(const Json& object, std::string_view path);

// The string at `path`, or "" when it is missing or not a string.
std::string StringAt(const Json& object, std::string_view path);

// The integer at `path`, or `fallback` when it is missing or not an integer.
int64_t IntAt(const Json& object, std::string_view path, int64_t fallback = 0);

// The array at `path`, or an empty array when it is missing or not an array.
const Json& ArrayAt(const Json& object, std::string_view path);

// The object at `path`, or an empty object when it is missing or not an object.
const Json& ObjectAt(const Json& object, std::string_view path);

// The member `key` of `object`, or null when `object` is not an object or lacks it. Unlike
// FindPath, `key` is one member name, so it may contain dots ("kubeblocks.io/restart").
const Json& MemberOf(const Json& object, std::string_view key);

// The string member `key` of `object`, or "" when it is missing or not a string.
std::string StringMemberOf(const Json& object, std::string_view key);

// Field selector text for a value: strings as they are, booleans as "true"/"false", numbers
// as JSON numbers, and "" for null, objects and arrays.
std::string ScalarText(const Json* value);

}  // namespace xblocks::api
