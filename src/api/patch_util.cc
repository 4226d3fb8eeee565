#include "api/patch_util.h"

namespace xblocks::api {

bool ExceedsDepth(const Json& value, int max_depth) {
  if (!value.is_structured()) return false;
  if (max_depth <= 0) return true;
  for (const Json& child : value) {
    if (ExceedsDepth(child, max_depth - 1)) return true;
  }
  return false;
}

std::string DumpForMessage(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string PatchValueTypeName(const Json& value) {
  if (value.is_number()) return "number";
  return value.type_name();
}

}  // namespace xblocks::api
