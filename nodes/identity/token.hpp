#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace switchboard::identity {

class key_set;

/// What a bearer token must satisfy to be accepted.
struct token_rules {
  /// Accepted `iss` values, compared exactly.
  std::vector<std::string> issuers;
  /// Accepted `iss` values with `{tenantid}` standing for the token's own
  /// `tid` (Entra ID's multi-tenant issuers, e.g.
  /// `https://sts.windows.net/{tenantid}/`).
  std::vector<std::string> issuer_templates;
  /// Accepted `aud` values (an app id, or `api://...` of Switchboard's API).
  std::vector<std::string> audiences;
  /// The token must name its Microsoft tenant (`tid`, or `tenantid` as the
  /// calling platform spells it).
  bool require_tenant = true;
  /// Allowed difference between the issuer's clock and ours, for `exp`
  /// and `nbf`; capped at 10 minutes whatever is configured.
  std::chrono::seconds clock_skew{300};
};

/// The claims of an accepted token that Switchboard uses.
struct token_claims {
  std::string issuer;
  std::string audience;
  std::string tenant_id; ///< `tid`: the Microsoft tenant.
  std::string object_id; ///< `oid`: the user or service principal.
  std::string subject;   ///< `sub`
  std::string app_id;    ///< `appid` (v1) or `azp` (v2): the calling app.
  std::string name;      ///< `name` or `preferred_username`, for logs.
  std::vector<std::string> roles;
  std::int64_t expires_at = 0; ///< `exp`, seconds since the epoch.
};

/// Why a token was refused.
enum class token_error : std::uint8_t {
  none,
  malformed,
  unsupported_algorithm,
  unknown_key,
  bad_signature,
  expired,
  not_yet_valid,
  wrong_issuer,
  wrong_audience,
  no_tenant,
};

/// The verdict on one token: its claims when accepted, otherwise the
/// error and a reason an operator can act on (never the token itself).
struct token_verdict {
  token_error error = token_error::none;
  std::string reason;
  /// The `kid` of the header, when it was readable: on `unknown_key` the
  /// caller refreshes its keys once and tries again.
  std::string key_id;
  token_claims claims;

  explicit operator bool() const noexcept { return error == token_error::none; }
};

/// The word for `e` in logs and metrics ("expired", "wrong_audience").
const char* to_string(token_error e) noexcept;

/// Tokens above this size are refused before any decoding.
inline constexpr std::size_t max_token_bytes = 16 * 1024;

/// Checks a compact JWS: RS256 only (no `none`, no HMAC), signature by a
/// key of `keys`, `exp` required, `nbf` honoured, issuer, audience and
/// tenant per `rules`. `now` is seconds since the epoch.
token_verdict verify_token(std::string_view token, const key_set& keys,
                           const token_rules& rules, std::int64_t now);

/// The token of an `Authorization: Bearer ...` header value, or "".
std::string_view bearer_token(std::string_view authorization) noexcept;

} // namespace switchboard::identity
