#pragma once

#include "nodes/http/client.hpp"

#include <chrono>
#include <functional>
#include <string>

namespace switchboard::graph {

/// Signing the service account in once, through the OAuth 2.0 device
/// authorization grant (RFC 8628) of the identity platform: the operator
/// is told a code and where to enter it, signs in there (with the service
/// account, from any browser), and the refresh token that comes back is
/// what the gateway keeps.
struct device_login_options {
  std::string authority; ///< e.g. https://login.microsoftonline.com
  std::string tenant;    ///< the Microsoft tenant signed in to
  std::string client_id; ///< the app (public client flows allowed)
  std::string scope;     ///< graph_api::user_scope_of(graph_url)
  /// Shown to the operator: the identity platform's instructions.
  std::function<void(const std::string&)> say;
  /// Waiting for the sign-in ends after the code expires or this long.
  std::chrono::seconds max_wait{900};
};

struct device_login_result {
  std::string refresh_token; ///< set on success
  std::string account;       ///< who signed in (from the access token)
  std::string error;         ///< set on failure, for the operator
};

/// Blocks until the operator has signed in, refused, or the code expired.
device_login_result device_login(const device_login_options& opts,
                                 http::client& client);

} // namespace switchboard::graph
