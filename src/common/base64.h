// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data.
#pragma once

#include <string>
#include <string_view>

namespace xblocks {

std::string Base64Encode(std::string_view bytes);

}  // namespace xblocks
