#pragma once

#include "nodes/http/client.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace switchboard::identity {

/// Signing a person in through the OAuth 2.0 device authorization grant
/// (RFC 8628) of the Microsoft identity platform: they are told a code and
/// where to enter it, sign in there from any browser, and the tokens that
/// come back are what the program keeps. The Graph gateway signs its
/// service account in this way; the CLI its user.
struct device_login_options {
  std::string authority; ///< e.g. https://login.microsoftonline.com
  std::string tenant;    ///< a Microsoft tenant id, or "organizations"
  std::string client_id; ///< the app (public client flows allowed)
  /// Space-separated; include offline_access for a refresh token.
  std::string scope;
  /// Shown to the person: the identity platform's instructions.
  std::function<void(const std::string&)> say;
  /// Waiting for the sign-in ends after the code expires or this long.
  std::chrono::seconds max_wait{900};
};

struct device_login_result {
  std::string access_token;
  std::string refresh_token;
  /// When the access token expires (seconds since the epoch), by the
  /// answer's expires_in.
  std::int64_t expires_at = 0;
  std::string account; ///< who signed in (from the access token)
  std::string error;   ///< set on failure, for the person signing in
};

/// Why the identity platform refused a request, for an operator: "HTTP
/// 401 invalid_client: AADSTS7000215: ..." (the description cut at 300
/// characters; never the request), or the transport's error. `code`, if
/// given, is set to the error code (authorization_pending, ...).
std::string platform_error(const http::reply& r, std::string* code = nullptr);

/// Blocks until the person has signed in, refused, or the code expired.
/// Success needs a refresh token (offline_access in the scope).
device_login_result device_login(const device_login_options& opts,
                                 http::client& client);

/// Redeems a refresh token from device_login (or an earlier refresh) for
/// a fresh access token and, usually, a new refresh token (the old one's
/// is kept in the result when the answer has none). `say` and `max_wait`
/// of `opts` are not used.
device_login_result refresh_sign_in(const device_login_options& opts,
                                    const std::string& refresh_token,
                                    http::client& client);

} // namespace switchboard::identity
