// Typing of YAML scalars by the YAML 1.2 core schema. Internal to yaml.cc.
#pragma once

#include <string>
#include <string_view>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::api {

// Types `value` by its tag as yaml-cpp reports it: "?" for plain scalars (core schema),
// "!" for quoted and block scalars (string), or an explicit tag such as
// "tag:yaml.org,2002:int". Unknown tags leave the value a string. Returns kBadRequest with a
// message that has no position (the caller adds it) for .inf/.nan, for a value that does not
// fit an explicit tag, and for invalid UTF-8.
Result<Json> ResolveYamlScalar(std::string_view tag, const std::string& value);

// Reports whether `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace xblocks::api
