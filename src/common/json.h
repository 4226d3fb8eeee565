// Kubernetes objects are held as nlohmann::json documents throughout xblocks.
#pragma once

#include <nlohmann/json.hpp>

namespace xblocks {
using Json = nlohmann::json;
}  // namespace xblocks
