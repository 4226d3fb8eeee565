// Validation of store keys and the conversion of objects to and from their stored JSON text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/json.h"
#include "common/status.h"

namespace xblocks::store {

// The largest stored JSON text, in bytes.
inline constexpr size_t kMaxObjectBytes = 3 * 1024 * 1024;
// The deepest nesting of arrays and objects accepted. Encoding recurses once per level, so the
// limit bounds stack use. Kubernetes objects nest far less deeply.
inline constexpr int kMaxNestingDepth = 1000;

// Returns kInvalid unless `key` starts with '/' and contains no NUL byte.
Status ValidateKey(const std::string& key);

// Sets metadata.resourceVersion to `revision` as a decimal string. Returns kInvalid if `object`
// is not a JSON object or its metadata is not one.
Status SetResourceVersion(Json& object, int64_t revision);

// Returns the compact JSON text of `object`. kInvalid if it nests deeper than kMaxNestingDepth or
// contains invalid UTF-8. kRequestEntityTooLarge if the text is longer than kMaxObjectBytes.
Result<std::string> EncodeObject(const Json& object, const std::string& key);

// Parses stored JSON text. kInternal naming the revision if it does not parse.
Result<Json> DecodeObject(const std::string& text, int64_t revision);

}  // namespace xblocks::store
