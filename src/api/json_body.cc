// JSON request bodies: a depth pre-scan, then nlohmann's parser with its exceptions caught.
#include <fmt/format.h>

#include "api/yaml.h"

namespace xblocks::api {
namespace {

// Returns the byte offset of the first '[' or '{' outside strings that opens a level deeper
// than kMaxNestingDepth, or npos. Malformed text is left for the parser to report.
size_t FindTooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNestingDepth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest already names
// the line and column.
std::string WithoutExceptionId(const char* what) {
  std::string_view message = what;
  if (!message.empty() && message[0] == '[') {
    size_t end = message.find("] ");
    if (end != std::string_view::npos) message.remove_prefix(end + 2);
  }
  return std::string(message);
}

}  // namespace

Result<Json> ParseJsonBody(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return BadRequest("the request body is empty; send a JSON object");
  }
  if (size_t offset = FindTooDeep(body); offset != std::string_view::npos) {
    return BadRequest(fmt::format("invalid JSON in request body: nesting is deeper than {} levels at byte {}",
                                  kMaxNestingDepth, offset + 1));
  }
  try {
    return Json::parse(body);
  } catch (const Json::exception& e) {
    return BadRequest("invalid JSON in request body: " + WithoutExceptionId(e.what()));
  }
}

}  // namespace xblocks::api
