// Compiled `pattern` regular expressions of OpenAPI schemas, each compiled once per process.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace xblocks::api {

// Longest string a pattern is matched against. libstdc++'s std::regex recurses once per
// character, so longer input could exhaust the stack; longer strings are reported as not
// matching.
inline constexpr size_t kMaxPatternInputLength = 4096;

// Reports whether `value` contains a match of the ECMAScript regular expression `pattern`
// (JSON Schema semantics: unanchored unless the pattern anchors itself). Returns kInternal if
// the pattern does not compile. Thread-safe.
Result<bool> MatchesPattern(const std::string& pattern, std::string_view value);

}  // namespace xblocks::api
