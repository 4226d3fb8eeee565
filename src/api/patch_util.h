// Helpers shared by the patch implementations (patch_*.cc). Internal to src/api.
#pragma once

#include <string>

#include "common/json.h"

namespace xblocks::api {

// Reports whether `value` nests maps and lists deeper than `max_depth` levels. Recurses at most
// max_depth + 1 frames, so it is safe on any input.
bool ExceedsDepth(const Json& value, int max_depth);

// Serializes `value` for an error message, replacing invalid UTF-8 instead of throwing.
std::string DumpForMessage(const Json& value);

// The JSON type of `value` as kube messages spell it: "object", "array", "string", "number",
// "boolean" or "null".
std::string PatchValueTypeName(const Json& value);

}  // namespace xblocks::api
