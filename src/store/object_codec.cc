#include "store/object_codec.h"

#include <utility>
#include <vector>

#include <fmt/format.h>

namespace xblocks::store {
namespace {

// Walks the document without recursion, so a hostile depth cannot overflow the stack here.
bool NestsDeeperThan(const Json& root, int limit) {
  std::vector<std::pair<const Json*, int>> pending = {{&root, 1}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (depth > limit) return true;
    for (const Json& child : *node) pending.emplace_back(&child, depth + 1);
  }
  return false;
}

}  // namespace

Status ValidateKey(const std::string& key) {
  if (key.empty() || key.front() != '/') {
    return Invalid(fmt::format("store key \"{}\" is invalid: it must start with '/'", key));
  }
  if (key.find('\0') != std::string::npos) {
    return Invalid("store key is invalid: it must not contain a NUL byte");
  }
  return Status::Ok();
}

Status SetResourceVersion(Json& object, int64_t revision) {
  if (!object.is_object()) {
    return Invalid(fmt::format("object must be a JSON object, not {}", object.type_name()));
  }
  Json& metadata = object["metadata"];
  if (metadata.is_null()) metadata = Json::object();
  if (!metadata.is_object()) {
    return Invalid(fmt::format("metadata must be a JSON object, not {}", metadata.type_name()));
  }
  metadata["resourceVersion"] = std::to_string(revision);
  return Status::Ok();
}

Result<std::string> EncodeObject(const Json& object, const std::string& key) {
  if (NestsDeeperThan(object, kMaxNestingDepth)) {
    return Invalid(fmt::format("object for {} nests deeper than {} levels", key, kMaxNestingDepth));
  }
  std::string text;
  try {
    text = object.dump();
  } catch (const Json::exception& error) {
    return Invalid(fmt::format("object for {} cannot be stored: {}", key, error.what()));
  }
  if (text.size() > kMaxObjectBytes) {
    return Status(StatusCode::kRequestEntityTooLarge,
                  fmt::format("object for {} is {} bytes of JSON, above the limit of {} bytes",
                              key, text.size(), kMaxObjectBytes));
  }
  return text;
}

Result<Json> DecodeObject(const std::string& text, int64_t revision) {
  Json object = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object()) {
    return Internal(fmt::format("stored object at revision {} is not a valid JSON object", revision));
  }
  return object;
}

}  // namespace xblocks::store
