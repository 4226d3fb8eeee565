// Standard base64 (RFC 4648, with padding), as Kubernetes uses for Secret data.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace xblocks {

std::string Base64Encode(std::string_view bytes);
// Decodes padded standard base64. nullopt when `text` is not valid base64.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace xblocks
