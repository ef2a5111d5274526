#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace switchboard::identity {

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(std::string_view bytes);

/// URL-safe base64 (RFC 4648 §5) without padding, as in JWTs and JWKs.
std::string base64url_encode(std::string_view bytes);

/// Decodes standard or URL-safe base64, padded or not; nullopt on any
/// character outside the alphabet or a length no encoder produces.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace switchboard::identity
